"""Template filters of the X-Ray pages: durations, shares and counts as observability.xray.formatting writes them."""

from django import template

from observability.xray.formatting import count_text, duration_text, share_text

register = template.Library()


@register.filter
def duration(seconds) -> str:
    return duration_text(seconds)


@register.filter
def share(fraction) -> str:
    return share_text(fraction or 0.0)


@register.filter
def count(value) -> str:
    return count_text(int(value or 0))
