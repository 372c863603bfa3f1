"""Reference server entry point, as in the toolkit README: writes its properties, starts MMS, waits."""

from sagemaker_inference import model_server

model_server.start_model_server(handler_service="handler_service")
