"""Reference server's handler service, as in the sagemaker-inference-toolkit README."""

from sagemaker_inference.default_handler_service import DefaultHandlerService
from sagemaker_inference.transformer import Transformer

from linear_handler import LinearInferenceHandler


class HandlerService(DefaultHandlerService):
    def __init__(self):
        super().__init__(transformer=Transformer(default_inference_handler=LinearInferenceHandler()))
