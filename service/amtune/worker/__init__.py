"""The ``amtune worker`` agent: unchanged SageMaker training scripts, run against amtune.

It talks to the service only through :mod:`amtune.sdk` (REST worker protocol and the AWS JSON
face), never imports the service, and can run on any machine that reaches the endpoint.
"""
