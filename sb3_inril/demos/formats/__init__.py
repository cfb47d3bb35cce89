"""One reader module per demonstration format; :func:`sb3_inril.demos.load_demonstrations` picks one."""
