from sb3_inril.common.demonstrations import DemonstrationBuffer, to_demonstration_arrays, validate_demonstrations
from sb3_inril.common.inril import InRILMixin

__all__ = ["DemonstrationBuffer", "InRILMixin", "to_demonstration_arrays", "validate_demonstrations"]
