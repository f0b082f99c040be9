"""The m3e-small sentence encoder, exported once to ONNX and run by onnxruntime: one implementation for the
NLU (Rasa environment), retrieval (action server) and the crisis screen (gateway). A leaf package."""
