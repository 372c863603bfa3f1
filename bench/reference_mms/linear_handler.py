"""Reference server's handler: the same linear model (y = x . w + b) in the toolkit's handler pattern."""

import json
import os

import numpy as np
from sagemaker_inference import decoder, default_inference_handler, encoder


class LinearInferenceHandler(default_inference_handler.DefaultInferenceHandler):
    def default_model_fn(self, model_dir, context=None):
        with open(os.path.join(model_dir, "model.json")) as f:
            params = json.load(f)
        return np.asarray(params["w"], dtype=np.float64), float(params["b"])

    def default_input_fn(self, input_data, content_type, context=None):
        return decoder.decode(input_data, content_type)

    def default_predict_fn(self, data, model, context=None):
        w, b = model
        return np.atleast_2d(np.asarray(data, dtype=np.float64)) @ w + b

    def default_output_fn(self, prediction, accept, context=None):
        return encoder.encode(prediction, accept)
