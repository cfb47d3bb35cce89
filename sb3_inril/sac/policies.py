from stable_baselines3.sac.policies import CnnPolicy, MlpPolicy

__all__ = ["CnnPolicy", "MlpPolicy"]
