"""The error a diverging run meets inside lpsim.nn: train() turns it into status "diverged"."""


class NonFiniteError(ArithmeticError):
    """NaN or inf reached a format or unit that has no code for it (a fixed-point format, an integer unit)."""
