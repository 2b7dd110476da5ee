"""The self-contained HTML page: inline CSS and SVG, no script, no external URL."""

from __future__ import annotations

import html
from pathlib import Path

import jinja2
from markupsafe import Markup

from truceline.publish import maps
from truceline.publish.report.content_model import ReportContent

#: The Jinja template and CSS, shared with nothing else: publish/templates/.
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )

def render_html(content: ReportContent) -> str:
    """The self-contained HTML page: inline CSS and SVG, no script, no external URL."""
    env = _environment()
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    page = env.get_template("report.html").render(
        c=content, css=css,
        map_svg=_svg_markup(content.map_figure, "Map of the line of contact, the distance "
                            "bands and the incidents"),
        timeline_svg=_svg_markup(content.timeline_figure, "Daily fire detections by "
                                 "distance band, with the agreement window shaded"),
    )
    return page

def _svg_markup(fig: maps.RenderedFigure | None, label: str) -> Markup | None:
    """The figure's SVG marked safe for the template (it is our own Matplotlib output)."""
    if fig is None:
        return None
    svg = fig.svg.replace("<svg ", f'<svg role="img" aria-label="{html.escape(label)}" ', 1)
    return Markup(svg)
