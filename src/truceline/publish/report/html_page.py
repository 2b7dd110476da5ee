"""The self-contained HTML page: inline CSS, SVG and (for the map) script, no external URL."""

from __future__ import annotations

import html
from pathlib import Path

import jinja2
from markupsafe import Markup

from truceline.publish import maps
from truceline.publish.report.content import FIRMS_ROW_HEADER
from truceline.publish.report.content_model import ReportContent
from truceline.publish.webmap import CSP, MAP_CSS, plotly_js

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

#: A page with no interactive map runs no script at all.
_CSP_STATIC = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def render_html(content: ReportContent) -> str:
    """The self-contained HTML page: inline CSS, SVG and scripts, no external URL.

    With an interactive map (``content.web_map``) the page inlines plotly.min.js from the
    installed package and our map script; its Content-Security-Policy allows inline
    script and nothing from anywhere else.
    """
    env = _environment()
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    web = content.web_map
    page = env.get_template("report.html").render(
        c=content, css=css + (MAP_CSS if web is not None else ""),
        csp=Markup(CSP if web is not None else _CSP_STATIC),  # our constant: no escaping
        plotly_js=plotly_js() if web is not None else None,
        web_map_html=Markup(web.html) if web is not None else None,
        web_map_script=web.script if web is not None else None,
        firms_header=FIRMS_ROW_HEADER,
        sector_svg=_svg_markup(content.sector_figure, "Daily fire detections in each sector "
                               "with an incident"),
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
