"""s2_egru: the Python side of s2's event-based EGRU and dense layers (docs/egru.md).

model     -- the reference EGRU in PyTorch (float32), CharLM and DigitsClassifier
data      -- the char-LM corpus (Debian's licence texts) and sklearn's digits
export    -- trained model -> s2 network description (JSON), and results -> logits
ref_numpy -- an independent bit-exact NumPy model of the engine's arithmetic
energy    -- CPU baseline (time, energy, MACs per token) for the float model
"""
