"""How X-Ray figures read on the pages and in hover text: durations, shares, counts."""


def duration_text(seconds: float | None) -> str:
    """ "—" for nothing, "850 µs", "12 ms", "1.23 s", "2 min 5 s": three significant figures at most."""
    if seconds is None:
        return "—"
    if seconds < 0.001:
        return f"{seconds * 1_000_000:.0f} µs"
    if seconds < 1:
        milliseconds = seconds * 1000
        return f"{milliseconds:.3g} ms" if milliseconds < 100 else f"{milliseconds:.0f} ms"
    if seconds < 60:
        return f"{seconds:.3g} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"


def share_text(fraction: float) -> str:
    """ "0%", "0.4%", "12%": one decimal below 10%, so a 0.5% fault rate does not read as 0 or 1."""
    if fraction <= 0:
        return "0%"
    percent = fraction * 100
    if percent < 10:
        return f"{percent:.1f}".rstrip("0").rstrip(".") + "%"
    return f"{percent:.0f}%"


def count_text(count: int) -> str:
    return f"{count:,}"
