import os
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

with open(os.path.join("sb3_inril", "version.txt")) as file_handler:
    __version__ = file_handler.read().strip()

HYPERPARAMS = "zoo_hyperparams"


class BuildPyWithHyperparameters(build_py):
    """Ship the top-level ``zoo_hyperparams/`` inside the package (as rl_zoo3 ships its ``hyperparams/``):
    ``sb3_inril/zoo_hyperparams/*.yml`` in the wheel, where ``sb3_inril.zoo`` looks first."""

    def run(self) -> None:
        super().run()
        if not os.path.isdir(HYPERPARAMS):  # building from an sdist that lacks them: nothing to copy
            return
        target = os.path.join(self.build_lib, "sb3_inril", HYPERPARAMS)
        os.makedirs(target, exist_ok=True)
        for name in sorted(os.listdir(HYPERPARAMS)):
            if name.endswith(".yml"):
                shutil.copy(os.path.join(HYPERPARAMS, name), os.path.join(target, name))


setup(
    name="sb3_inril",
    version=__version__,
    description="IN-RIL: interleaved reinforcement and imitation learning for Stable-Baselines3",
    # scripts/ and tests/ are packages of the repository (importable from its root), not of the wheel.
    packages=find_packages(exclude=["tests", "tests.*", "scripts", "scripts.*"]),
    package_data={
        "sb3_inril": [
            "version.txt",
            "py.typed",
            "data/*.npz",
            "data/*.json",
            "data/*.md",
            "data/robomimic/*.hdf5",
            "data/robomimic/*.json",
        ]
    },
    cmdclass={"build_py": BuildPyWithHyperparameters},
    python_requires=">=3.10",
    # Ranges the code supports (the exact versions CI runs are pinned in requirements.txt).
    install_requires=[
        "torch>=2.3",
        "stable-baselines3>=2.6,<3.0",
        "sb3-contrib>=2.6,<3.0",
        "gymnasium[mujoco]>=1.0,<2.0",
        "numpy>=1.24",
        "matplotlib",
        "tqdm",
        "rich",
        "tensorboard",
    ],
    extras_require={
        # rl_zoo3's plots (plot_train, all_plots) and its console script need seaborn.
        "zoo": ["rl_zoo3>=2.6,<3.0", "seaborn"],
        "data": ["h5py", "minari>=0.5,<0.6", "datasets", "jsonpickle"],
        # robosuite 1.5.2 goes in with --no-deps (its mink pin needs numpy<2): see the Makefile.
        "robomimic": ["h5py", "mujoco>=3.2,<=3.9.0", "numba", "scipy", "Pillow", "termcolor", "opencv-python-headless"],
        # compare.py / benchmark_overhead.py --ray-address: the runs of a sweep as Ray tasks on a cluster.
        "ray": ["ray>=2.9"],
        "tests": ["pytest", "pytest-timeout", "pytest-xdist", "ruff"],
        # The docs site (mkdocs.yml): `mkdocs build --strict`, which `make test` runs.
        "docs": ["mkdocs>=1.6,<2", "mkdocs-material>=9.5,<10", "mdx-breakless-lists>=1.0"],
    },
    entry_points={
        "console_scripts": [
            "sb3-inril=sb3_inril.__main__:main",
            "sb3-inril-train=sb3_inril.train:main",
            "sb3-inril-enjoy=sb3_inril.enjoy:main",
            "sb3-inril-record-video=sb3_inril.record_video:main",
        ]
    },
)
