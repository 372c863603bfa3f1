"""sagezero's policy pack: the rules that keep every SageMaker endpoint able to reach zero and wake up.

The rules live in importable modules (`scaling`, `hygiene`); `__main__.py` only serves the pack,
because constructing a PolicyPack starts a gRPC server and blocks.
"""
