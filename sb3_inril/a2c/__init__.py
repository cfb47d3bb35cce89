from sb3_inril.a2c.inril_a2c import InRILA2C

__all__ = ["InRILA2C"]
