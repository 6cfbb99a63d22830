"""`{% load team_panels %}{% team_panel template values %}`: a team page panel (portal.teams.panels).

Renders `template` with the page's context plus `values`, the panel's own context, as `{% include %}` would
with `with` (which takes names one by one, not a dict). The values are popped afterwards, so one panel's
keys do not reach the next.
"""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def team_panel(context, template_name: str, values: dict) -> str:
    panel = context.template.engine.get_template(template_name)
    with context.push(values):
        return panel.render(context)
