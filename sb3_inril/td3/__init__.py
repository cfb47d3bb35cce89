from sb3_inril.td3.inril_td3 import InRILTD3

__all__ = ["InRILTD3"]
