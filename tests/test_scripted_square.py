"""The scripted NutAssemblySquare expert: its geometry by hand, one seeded episode, the shipped file."""

import json

import numpy as np
import pytest

from sb3_inril.envs.scripted import (
    HANDLE_OFFSET,
    SCRIPTED_TASKS,
    WRIST_TURN_LIMITS,
    _down_with_yaw,
    _quat_xyzw_to_matrix,
    _rotation_vector,
    choose_peg_correction,
    grasp_yaw_correction,
    nut_centre_target,
    peg_yaw_correction,
    wrap_angle,
    yaw_of_quat,
)

PI = np.pi


def z_quat(yaw: float, sign: float = 1.0) -> np.ndarray:
    """A rotation about z as robosuite's (x, y, z, w) quaternion (``sign=-1``: the same rotation, negated)."""
    return sign * np.array([0.0, 0.0, np.sin(yaw / 2), np.cos(yaw / 2)])


def test_wrap_angle():
    assert wrap_angle(0.3) == pytest.approx(0.3)
    assert wrap_angle(2 * PI + 0.3) == pytest.approx(0.3)
    assert wrap_angle(PI - 0.1) == pytest.approx(PI - 0.1)
    assert wrap_angle(PI + 0.1) == pytest.approx(-PI + 0.1)
    assert wrap_angle(PI / 2 + 0.1, PI) == pytest.approx(-PI / 2 + 0.1)
    assert wrap_angle(PI / 4 + 0.1, PI / 2) == pytest.approx(-PI / 4 + 0.1)
    assert wrap_angle(-PI / 4 - 0.1, PI / 2) == pytest.approx(PI / 4 - 0.1)


@pytest.mark.parametrize("yaw", [0.0, 0.4, -0.408, 1.5, PI - 0.01, -2.152, 3.0])
def test_yaw_of_quat(yaw):
    assert yaw_of_quat(z_quat(yaw)) == pytest.approx(yaw, abs=1e-9)
    # robosuite gives either sign of the quaternion (the first episode's nut: w = -0.979).
    assert yaw_of_quat(z_quat(yaw, sign=-1.0)) == pytest.approx(yaw, abs=1e-9)
    # The grip site's yaw as the policy reads it, from the heading of the frame's x axis.
    matrix = _quat_xyzw_to_matrix(z_quat(yaw))
    assert np.arctan2(matrix[1, 0], matrix[0, 0]) == pytest.approx(yaw, abs=1e-9)


@pytest.mark.parametrize(
    "nut_yaw, gripper_yaw, expected",
    [
        # robosuite's start: fingers along world y (grip site yaw pi/2); a nut at yaw 0 (handle +x) is
        # grasped across its handle as is.
        (0.0, PI / 2, 0.0),
        (0.3, PI / 2, 0.3),
        (-0.408, PI / 2, -0.408),  # seed 0's nut
        # The handle the other way (yaw pi): the same finger axis, 180-degree symmetry of the gripper.
        (PI, PI / 2, 0.0),
        (PI + 0.3, PI / 2, 0.3),
        # Handle along +y: fingers along x, turning by -pi/2 + 0.1 rather than pi/2 + 0.1.
        (PI / 2 + 0.1, PI / 2, -PI / 2 + 0.1),
        (PI / 2 - 0.1, PI / 2, PI / 2 - 0.1),
        (-2.152, PI / 2, -2.152 + PI),  # seed 2's nut: the same finger axis as a nut at yaw 0.99
        (0.2, 0.0, PI / 2 + 0.2 - PI),  # a gripper already turned
    ],
)
def test_grasp_yaw_correction(nut_yaw, gripper_yaw, expected):
    correction = grasp_yaw_correction(nut_yaw, gripper_yaw)
    assert correction == pytest.approx(expected, abs=1e-9)
    assert -PI / 2 <= correction < PI / 2
    # After it, the fingers' axis is the nut's y axis (either direction): across the handle.
    fingers = gripper_yaw + correction
    nut_y_axis = nut_yaw + PI / 2
    assert abs(np.sin(fingers - nut_y_axis)) < 1e-9


@pytest.mark.parametrize(
    "nut_yaw, expected",
    [
        (0.0, 0.0),
        (0.3, -0.3),
        (-0.3, 0.3),
        (PI / 2 + 0.3, -0.3),  # 90-degree symmetry of the square hole
        (PI - 0.2, 0.2),
        (PI + 0.2, -0.2),
        (-PI / 2 - 0.1, 0.1),
        (PI / 4 + 0.05, PI / 4 - 0.05),  # past 45 degrees: on to the next side, not back
        (PI / 4 - 0.05, -PI / 4 + 0.05),
    ],
)
def test_peg_yaw_correction(nut_yaw, expected):
    correction = peg_yaw_correction(nut_yaw)
    assert correction == pytest.approx(expected, abs=1e-9)
    assert -PI / 4 <= correction < PI / 4
    assert abs(np.sin(2 * (nut_yaw + correction))) < 1e-9  # square to the (unrotated) peg


@pytest.mark.parametrize(
    "nut_yaw, turn, expected",
    [
        (PI - 0.2, 0.0, 0.2),  # the handle towards the robot: the smallest correction
        (-PI / 2 + 0.3, 0.0, -0.3),  # handle along -y
        (PI / 2 + 0.3, 2.4, -0.3),  # handle along +y, the wrist far turned but not past its range
        # Handle near +x (seed 1's nut): squaring it there puts the gripper 5 cm past the peg, out of
        # reach; the next smallest correction turns the handle to +y.
        (0.173, 0.17, PI / 2 - 0.173),
        (-0.2, -0.2, -PI / 2 + 0.2),
        # The smallest (+0.3) would turn the wrist past its range, -pi/2 + 0.3 points the handle to +x,
        # pi/2 + 0.3 is past the range too: the other way round, -pi + 0.3.
        (PI / 2 - 0.3, 2.4, -PI + 0.3),
    ],
)
def test_choose_peg_correction(nut_yaw, turn, expected):
    correction = choose_peg_correction(nut_yaw, turn)
    assert correction == pytest.approx(expected, abs=1e-9)
    assert abs(np.sin(2 * (nut_yaw + correction))) < 1e-9  # square to the peg
    assert np.cos(nut_yaw + correction) < 0.5  # the handle not away from the robot
    assert WRIST_TURN_LIMITS[0] <= turn + correction <= WRIST_TURN_LIMITS[1]


def test_nut_centre_target():
    peg = np.array([0.23, 0.1, 0.85])
    # Held by the handle, turned to +y: the gripper 5.4 cm on the nut's +y side, 6 mm above its centre.
    nut_to_gripper = np.array([0.0, HANDLE_OFFSET, 0.006])
    target = nut_centre_target(peg, nut_to_gripper, 1.05)
    np.testing.assert_allclose(target, [0.23, 0.1 + HANDLE_OFFSET, 1.056])
    # With the gripper there, holding the nut as it does, the nut's centre (not the gripper) is over the peg.
    np.testing.assert_allclose((target - nut_to_gripper)[:2], peg[:2])
    np.testing.assert_allclose(nut_centre_target(peg, np.array([-0.03, 0.04, 0.0]), 0.83), [0.2, 0.14, 0.83])


def test_orientation_error_is_axis_angle_in_the_world_frame():
    # The grip site at robosuite's start: pointing down, fingers (its x axis) along world y.
    start = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, -1.0]])
    np.testing.assert_allclose(_down_with_yaw(PI / 2), start, atol=1e-12)
    for yaw in (0.3, -1.2, 2.0):
        rotation = _down_with_yaw(yaw)
        assert np.arctan2(rotation[1, 0], rotation[0, 0]) == pytest.approx(yaw)
        np.testing.assert_allclose(rotation[:, 2], [0.0, 0.0, -1.0], atol=1e-12)
        # The command that turns the start into it: a rotation about world z by the yaw difference.
        np.testing.assert_allclose(_rotation_vector(rotation @ start.T), [0.0, 0.0, yaw - PI / 2], atol=1e-9)
    # A gripper pitched by 0.14 rad (as robosuite's start almost is) is brought back upright.
    cos, sin = np.cos(0.14), np.sin(0.14)
    pitched = np.array([[cos, 0.0, sin], [0.0, 1.0, 0.0], [-sin, 0.0, cos]]) @ start
    np.testing.assert_allclose(_rotation_vector(start @ pitched.T), [0.0, -0.14, 0.0], atol=1e-9)


def test_square_is_a_scripted_task(tmp_path, monkeypatch):
    assert "NutAssemblySquare" in SCRIPTED_TASKS
    from scripts import collect_robomimic_demos as script

    calls = []

    def collect(task: str, n_demos: int, path: str, **kwargs) -> dict:
        calls.append((task, n_demos, kwargs["command"]))
        return dict(success_rate=1.0, n_attempts=1, n_demos=1, n_transitions=5, length_mean=5.0)

    monkeypatch.setattr(script, "collect_robomimic_demos", collect)
    script.main(["--task", "NutAssemblySquare", "--demos", "2", "--out", str(tmp_path / "square")])
    assert calls == [
        (
            "NutAssemblySquare",
            2,
            f"python scripts/collect_robomimic_demos.py --task NutAssemblySquare --demos 2 --out {tmp_path / 'square'}",
        )
    ]


# -- with robosuite ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def square_env():
    pytest.importorskip("robosuite")
    from sb3_inril.envs.robomimic import RobomimicEnv

    env = RobomimicEnv("NutAssemblySquare", seed=0)
    yield env
    env.close()


def test_policies_check_their_task(square_env):
    from sb3_inril.envs.scripted import ScriptedPickPolicy, ScriptedSquarePolicy, make_scripted_policy

    assert isinstance(make_scripted_policy(square_env), ScriptedSquarePolicy)
    with pytest.raises(ValueError, match="no scripted expert for 'NutAssemblySquare' in ScriptedPickPolicy"):
        ScriptedPickPolicy(square_env)
    with pytest.raises(ValueError, match="noise_std: expected >= 0"):
        ScriptedSquarePolicy(square_env, noise_std=-1.0)


def test_seeded_episode_grasps_squares_and_places_the_nut(square_env):
    from sb3_inril.envs.scripted import ScriptedSquarePolicy

    env = square_env
    policy = ScriptedSquarePolicy(env, noise_std=0.05, seed=1)
    env.reset(seed=1)  # its nut's handle points near +x: squared to +y instead (out of reach otherwise)
    raw = env._last_raw
    phases, lifted, info, yaw_over_peg = [0], False, {}, np.nan
    for _ in range(env.horizon):
        action = policy(raw)
        assert action.shape == (7,) and np.all(np.abs(action) <= 1.0)
        if policy.phase != phases[-1]:
            phases.append(policy.phase)
            if policy.phase == 5:  # over the peg, about to go down
                yaw_over_peg = yaw_of_quat(raw["SquareNut_quat"])
        _, _, terminated, truncated, info = env.step(action)
        raw = env._last_raw
        lifted |= policy.phase >= 3 and raw["SquareNut_pos"][2] > 0.95  # held above the peg's top
        if terminated or truncated:
            break
    assert phases[:6] == [0, 1, 2, 3, 4, 5], phases
    assert lifted and info["is_success"]
    # Square to the peg (within 3 degrees), the handle not towards +x.
    assert abs(np.sin(2 * yaw_over_peg)) < 0.1 and np.cos(yaw_over_peg) < 0.5, yaw_over_peg
    peg = env.env.sim.data.body_xpos[env.env.peg1_body_id]
    assert np.linalg.norm((raw["SquareNut_pos"] - peg)[:2]) < 0.01 and raw["SquareNut_pos"][2] < 0.87


def test_shipped_square_demonstrations():
    pytest.importorskip("h5py")
    import h5py

    from sb3_inril import load_demonstrations
    from sb3_inril.data import demonstration_metadata, demonstration_path, resolve_shipped
    from sb3_inril.envs.robomimic import DEFAULT_OBS_KEYS

    path = demonstration_path("robomimic/NutAssemblySquare-v0", "scripted")
    assert resolve_shipped("shipped:robomimic/NutAssemblySquare-v0/scripted") == path
    made = demonstration_metadata("robomimic/NutAssemblySquare-v0", "scripted")
    assert made["task"] == "NutAssemblySquare" and made["command"].startswith("python scripts/collect_robomimic_demos.py")
    assert made["success_rate"] >= 0.8 and not made["keep_failures"]
    demos = load_demonstrations(path, obs_keys=DEFAULT_OBS_KEYS["NutAssemblySquare"])
    assert demos.n_episodes == made["n_demos"] and len(demos.actions) == made["n_transitions"]
    with h5py.File(path, "r") as file:
        assert json.loads(file["data"].attrs["env_args"])["object_layout"] == "v141"
        actions = file["data/demo_0/actions"][()]
        rewards = file["data/demo_0/rewards"][()]
    assert actions.shape[1] == 7 and np.abs(actions[:, 3:6]).max() > 0.1  # the expert turns the gripper
    assert rewards[-1] == 1.0  # every written demo ends in success
