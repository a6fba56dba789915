"""The Python SDK: ``Operator`` speaks the operator protocol, as the browser component does."""

from ucs.client.operator import Event, Operator, OperatorError

__all__ = ["Event", "Operator", "OperatorError"]
