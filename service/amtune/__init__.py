"""amtune: self-hosted hyperparameter tuning with the SageMaker AMT API."""

__version__ = "0.1.0"
