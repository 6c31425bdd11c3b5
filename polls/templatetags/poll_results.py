from django import template

register = template.Library()


@register.filter
def percent_of(count, total):
    """Return count as a whole percentage of total, or 0 when there are no votes yet."""
    if not total:
        return 0
    return round(100 * count / total)
