import os

from setuptools import find_packages, setup

with open(os.path.join("sb3_inril", "version.txt")) as file_handler:
    __version__ = file_handler.read().strip()

setup(
    name="sb3_inril",
    version=__version__,
    description="IN-RIL: interleaved reinforcement and imitation learning for Stable-Baselines3",
    packages=find_packages(exclude=["tests", "tests.*"]),
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
    python_requires=">=3.10",
    install_requires=[
        "torch==2.13.0",
        "stable-baselines3==2.9.2",
        "sb3-contrib==2.9.2",
        "gymnasium[mujoco]==1.4.0",
        "numpy",
        "matplotlib",
        "tqdm",
        "rich",
        "tensorboard",
    ],
    extras_require={
        "zoo": ["rl_zoo3==2.9.2"],
        "data": ["h5py", "minari==0.5.4", "datasets", "jsonpickle"],
        # robosuite 1.5.2 goes in with --no-deps (its mink pin needs numpy<2): see the Makefile.
        "robomimic": ["h5py", "mujoco==3.9.0", "numba", "scipy", "Pillow", "termcolor", "opencv-python-headless"],
        "tests": ["pytest", "pytest-timeout", "ruff"],
    },
    entry_points={
        "console_scripts": [
            "sb3-inril=sb3_inril.__main__:main",
            "sb3-inril-train=sb3_inril.train:main",
            "sb3-inril-enjoy=sb3_inril.enjoy:main",
        ]
    },
)
