def steps(epochs: int, warmup: bool) -> int:
    return epochs * 50 + (10 if warmup else 0)
