from stable_baselines3.common.policies import ActorCriticCnnPolicy, ActorCriticPolicy

# IN-RIL needs nothing from the policy that SB3's actor-critic policies do not already offer.
MlpPolicy = ActorCriticPolicy
CnnPolicy = ActorCriticCnnPolicy
