from django import template

register = template.Library()


@register.filter
def percent_of(count, total):
    """Return count as a whole percentage of total, 0 when nobody has voted yet."""
    if not total:
        return 0
    return round(100 * count / total)
