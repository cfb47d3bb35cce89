from sb3_contrib.tqc.policies import CnnPolicy, MlpPolicy

__all__ = ["CnnPolicy", "MlpPolicy"]
