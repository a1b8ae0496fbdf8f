"""Bridges to the services around VTM: MLflow, TensorBoard, the FTP model registry."""
