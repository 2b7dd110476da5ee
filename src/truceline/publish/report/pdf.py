"""The printable PDF: ReportLab (fonts embedded, reproducible bytes), else Matplotlib.

ReportLab lays the report out in pure Python rather than printing the HTML in a browser:
a report must be re-made the same way on any machine, including one with no browser.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Sequence
from io import BytesIO
from pathlib import Path
from typing import Any, Literal

import numpy as np

from truceline import __version__
from truceline.errors import InputError
from truceline.publish import exports as ex
from truceline.publish import maps
from truceline.publish.report.content_model import ReportContent, Tabled

PDF_MAX_ROWS = 400

def write_pdf(path: str | Path, content: ReportContent,
              engine: Literal["auto", "reportlab", "matplotlib"] = "auto") -> Path:
    """Write the printable PDF; ReportLab when installed (or asked), else Matplotlib."""
    path = Path(path)
    if engine not in ("auto", "reportlab", "matplotlib"):
        raise InputError(f"engine = {engine!r}: expected 'auto', 'reportlab' or 'matplotlib'")
    if engine in ("auto", "reportlab"):
        try:
            import reportlab  # noqa: F401
        except ImportError as exc:
            if engine == "reportlab":
                raise InputError("engine = 'reportlab' but ReportLab is not installed: "
                                 "pip install reportlab") from exc
        else:
            _write_pdf_reportlab(path, content)
            return path
    _write_pdf_matplotlib(path, content)
    return path

_VERDICT_COLORS = {"held": "#1a7f37", "reduced": "#9a6700", "violated": "#b2182b",
                   "inconclusive": "#57606a"}

def _register_fonts() -> tuple[str, str, str]:
    """DejaVu Sans from Matplotlib's own data: every Latin and Cyrillic glyph, embedded."""
    import matplotlib
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    names = ("TLSans", "TLSans-Bold", "TLSans-Oblique")
    if names[0] in pdfmetrics.getRegisteredFontNames():
        return names
    ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    for name, file in zip(names, ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf",
                                  "DejaVuSans-Oblique.ttf"), strict=True):
        pdfmetrics.registerFont(TTFont(name, str(ttf / file)))
    addMapping(names[0], 0, 0, names[0])
    addMapping(names[0], 1, 0, names[1])
    addMapping(names[0], 0, 1, names[2])
    addMapping(names[0], 1, 1, names[1])
    return names

def _write_pdf_reportlab(path: Path, content: ReportContent) -> None:
    """A4 pages laid out with ReportLab's Platypus; same sections as the HTML."""
    from PIL import Image as PILImage
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_LEFT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        CondPageBreak,
        Image,
        KeepTogether,
        ListFlowable,
        ListItem,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    regular, bold, italic = _register_fonts()
    ink, grey = colors.HexColor("#1f2328"), colors.HexColor("#57606a")
    rule = colors.HexColor("#d0d7de")
    vcolor = colors.HexColor(_VERDICT_COLORS.get(content.verdict, "#57606a"))

    def style(name: str, **kw: Any) -> ParagraphStyle:
        base = {"fontName": regular, "fontSize": 9.5, "leading": 13, "textColor": ink,
                "alignment": TA_LEFT}
        base.update(kw)
        return ParagraphStyle(name, **base)

    s_title = style("title", fontName=bold, fontSize=17, leading=21, spaceAfter=3)
    s_sub = style("sub", fontSize=8.5, leading=11, textColor=grey, spaceAfter=8)
    s_h2 = style("h2", fontName=bold, fontSize=12.5, leading=16, spaceBefore=10,
                 spaceAfter=4)
    s_h3 = style("h3", fontName=bold, fontSize=10, leading=13, spaceBefore=5, spaceAfter=2)
    s_body = style("body", spaceAfter=4)
    s_small = style("small", fontSize=7.5, leading=9.5, textColor=grey)
    s_cell = style("cell", fontSize=7.5, leading=9.5)
    s_cellb = style("cellb", fontName=bold, fontSize=7.5, leading=9.5)
    s_wrap = style("wrap", fontSize=7, leading=9, wordWrap="CJK")  # long ids break anywhere
    s_tcell = style("tcell", fontSize=7, leading=9)
    s_thead = style("thead", fontName=bold, fontSize=6.5, leading=8.5)
    s_verdict = style("verdict", fontName=bold, fontSize=20, leading=24, textColor=vcolor)
    s_warn = style("warn", fontSize=9, leading=12.5)
    s_banner = style("banner", fontName=bold, fontSize=9.5, leading=12.5,
                     textColor=colors.HexColor("#82071e"))
    s_lede = style("lede", fontSize=10.5, leading=14.5, spaceBefore=4, spaceAfter=6)
    s_mono = style("mono", fontSize=6, leading=7.5, wordWrap="CJK")

    def p(text: str, st: ParagraphStyle = s_body) -> Paragraph:
        return Paragraph(html.escape(str(text)), st)

    def bullets(items: Sequence[str], st: ParagraphStyle = s_body) -> ListFlowable:
        return ListFlowable([ListItem(p(i, st), leftIndent=10, value="•") for i in items],
                            bulletType="bullet", start="•", leftIndent=10,
                            bulletFontName=regular, bulletFontSize=8)

    def _cell(main: str, minor: str, st: ParagraphStyle) -> Paragraph:
        text = html.escape(main)
        if minor:
            text += f"<br/><font color='#57606a' size='6.3'>{html.escape(minor)}</font>"
        return Paragraph(text, st)

    def _firms_cell(firms: Sequence[Sequence[str]], ids: Sequence[str]) -> Paragraph:
        """The first FIRMS rows of an incident, and how many more the CSV holds."""
        if not firms:
            text = ", ".join(ids[:4]) + (f" and {len(ids) - 4} more" if len(ids) > 4 else "")
            return p(text, s_wrap)
        lines = [" ".join(v for v in (f[0], f[1], f[2], f[3], f[4]) if v) for f in firms[:3]]
        if len(firms) > 3:
            lines.append(f"and {len(firms) - 3} more")
        return Paragraph("<br/>".join(html.escape(x) for x in lines), s_mono)

    def kv_table(rows: Sequence[tuple[str, str]], widths: tuple[float, float]) -> Table:
        t = Table([[p(k, s_cellb), p(v, s_cell)] for k, v in rows], colWidths=widths,
                  hAlign="LEFT")
        t.setStyle(TableStyle([
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LINEBELOW", (0, 0), (-1, -1), 0.3, rule),
            ("TOPPADDING", (0, 0), (-1, -1), 2.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ]))
        return t

    def grid(header: Sequence[str], rows: Sequence[Sequence[Any]],
             widths: Sequence[float], head_style: ParagraphStyle | None = None) -> Table:
        data = [[p(h, head_style or s_cellb) for h in header]]
        data += [[c if isinstance(c, Paragraph) else p(c, s_cell) for c in r] for r in rows]
        t = Table(data, colWidths=list(widths), repeatRows=1, hAlign="LEFT")
        t.setStyle(TableStyle([
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f0f2f5")),
            ("LINEBELOW", (0, 0), (-1, 0), 0.6, grey),
            ("LINEBELOW", (0, 1), (-1, -1), 0.25, rule),
            ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
            ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ]))
        return t

    def figure(rendered: maps.RenderedFigure, caption: str, max_h: float) -> KeepTogether:
        w_px, h_px = PILImage.open(BytesIO(rendered.png)).size
        w = width
        h = w * h_px / w_px
        if h > max_h:
            w, h = w * max_h / h, max_h
        return KeepTogether([Image(BytesIO(rendered.png), width=w, height=h),
                             p(caption, s_small), Spacer(1, 6)])

    def table_block(t: Tabled) -> list[Any]:
        n = max(len(t.header), 1)
        block: list[Any] = [p(t.title, s_h3)]
        if t.note:
            block.append(p(t.note, s_small))
        # columns as wide as their content wants (capped), so short cells never break
        want = []
        for i, h in enumerate(t.header):
            cells = [len(r[i]) for r in t.rows if i < len(r)]
            word = max((len(w) for w in h.split()), default=4)
            want.append(float(min(max([word, *cells]) + 2, 34)))
        total = sum(want) or float(n)
        widths = [width * w / total for w in want]
        block.append(grid(t.header, [[p(c, s_tcell) for c in r] for r in t.rows], widths,
                          head_style=s_thead))
        return block

    page_w, page_h = A4
    margin = 16 * mm
    width = page_w - 2 * margin

    def on_page(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(regular, 7.5)
        canvas.setFillColor(grey)
        canvas.drawString(margin, 9 * mm, content.title[:110])
        canvas.drawRightString(page_w - margin, 9 * mm, f"page {doc.page}")
        canvas.restoreState()

    story: list[Any] = [p(content.title, s_title), p(content.subtitle, s_sub)]
    if content.banner:
        bt = Table([[p(content.banner, s_banner)]], colWidths=[width])
        bt.setStyle(TableStyle([
            ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#fde7e9")),
            ("BOX", (0, 0), (-1, -1), 0.8, colors.HexColor("#cf222e")),
            ("LEFTPADDING", (0, 0), (-1, -1), 8), ("RIGHTPADDING", (0, 0), (-1, -1), 8),
            ("TOPPADDING", (0, 0), (-1, -1), 5), ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
        ]))
        story += [bt, Spacer(1, 6)]

    box = [p(f"Verdict: {content.verdict_label}", s_verdict), Spacer(1, 3),
           p(content.verdict_text)]
    if content.reasons:
        box += [p("Why:", s_h3), bullets(content.reasons)]
    if content.rule:
        box += [Spacer(1, 2), p(content.rule, s_small)]
    vt = Table([[box]], colWidths=[width])
    vt.setStyle(TableStyle([
        ("BOX", (0, 0), (-1, -1), 0.8, vcolor),
        ("LINEBEFORE", (0, 0), (0, -1), 5, vcolor),
        ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#fafbfc")),
        ("LEFTPADDING", (0, 0), (-1, -1), 10), ("RIGHTPADDING", (0, 0), (-1, -1), 10),
        ("TOPPADDING", (0, 0), (-1, -1), 8), ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
    ]))
    story += [vt, Spacer(1, 6)]
    if content.coverage_warning:
        wt = Table([[p(content.coverage_warning, s_warn)]], colWidths=[width])
        poor = content.coverage_poor
        wt.setStyle(TableStyle([
            ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#fff8c5" if poor else "#f6f8fa")),
            ("BOX", (0, 0), (-1, -1), 0.6, colors.HexColor("#d4a72c" if poor else "#d0d7de")),
            ("LEFTPADDING", (0, 0), (-1, -1), 8), ("RIGHTPADDING", (0, 0), (-1, -1), 8),
            ("TOPPADDING", (0, 0), (-1, -1), 6), ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
        ]))
        story += [wt, Spacer(1, 4)]

    if content.plain_summary:
        story.append(p(content.plain_summary, s_lede))
    story += [p("What the satellites saw", s_h2), bullets(content.summary + content.statistics)]
    if content.map_figure is not None:
        # page 1 or 2, as large as a page allows; the heading travels with its figure
        story += [CondPageBreak(150 * mm), KeepTogether([
            p("Map", s_h2), figure(content.map_figure, content.map_caption,
                                   page_h - 2 * margin - 45 * mm)])]

    if content.counts_rows:
        n = len(content.counts_header)
        first = min(width * 0.45, 80 * mm)
        story += [p("Counts", s_h3), grid(content.counts_header, content.counts_rows,
                                           [first] + [(width - first) / max(n - 1, 1)] * (n - 1))]

    for t in content.tables:
        if t.section == "saw":
            story += table_block(t)

    story += [p("The agreement", s_h2), kv_table(content.agreement, (48 * mm, width - 48 * mm))]
    story += [p("Satellite coverage", s_h2), kv_table(content.coverage,
                                                       (48 * mm, width - 48 * mm))]
    def two_up(rows: Sequence[Sequence[Any]]) -> list[list[Any]]:
        """A long narrow table as two side by side: first half left, second half right."""
        half = (len(rows) + 1) // 2
        pad = [[""] * len(rows[0])] * (2 * half - len(rows))
        return [[*a, *b] for a, b in zip(rows[:half], [*rows[half:], *pad], strict=True)]

    if content.cloud:
        story += [p("Cloud cover by region during the window", s_h3),
                  grid(["Region", "Cloud", "Region", "Cloud"], two_up(content.cloud),
                       [width * 0.35, width * 0.15, width * 0.35, width * 0.15])]
    if content.coverage_days:
        story += [p("Day by day in the window", s_h3),
                  grid(["Date (UTC)", "Passes", "Detections", "Cloud", "Counts"] * 2,
                       two_up(content.coverage_days), [width / 10] * 10)]

    if content.timeline_figure is not None:
        story += [CondPageBreak(85 * mm), KeepTogether([
            p("Day by day", s_h2),
            figure(content.timeline_figure, "Fire detections per UTC day in each distance "
                   "band (bars) and in the control band far from the line (green line); the "
                   "agreement window is shaded, days without satellite data are hatched.",
                   90 * mm)])]
    if content.sector_figure is not None:
        story += [CondPageBreak(80 * mm), KeepTogether([
            p("Sectors with incidents", s_h3),
            figure(content.sector_figure, content.sector_caption, 150 * mm)])]

    story += [CondPageBreak(60 * mm),
              p(f"Incidents ({len(content.incident_rows)})", s_h2)]
    if content.incident_rows:
        rows = []
        for r in content.incident_rows[:PDF_MAX_ROWS]:
            rows.append([
                p(r["id"], s_wrap),
                _cell(r["when_start"], r["when_end"], s_tcell),
                _cell(r["place"], r["coords"], s_tcell),
                p(r["ground"], s_tcell),
                _cell(r["detections"], " · ".join(b for b in (r["in_window"], r["sensors"],
                                                              r["decided"]) if b), s_tcell),
                _cell(r["frp"], r["frp_max"], s_tcell),
                p(r["p"], s_tcell), p(r["confidence"], s_tcell),
                _firms_cell(r["firms_rows"], r["evidence"])])
        widths = [0.088, 0.125, 0.12, 0.12, 0.097, 0.08, 0.075, 0.085, 0.21]
        header = ["Incident", "First and last seen (UTC)", "Where", "Ground (control map)",
                  "Detections", "FRP", "p_natural, lowest", "Confidence",
                  "FIRMS rows: acq_date acq_time lat lon satellite"]
        table = grid(header, rows, [width * w for w in widths], head_style=s_thead)
        table.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 2),
                                   ("RIGHTPADDING", (0, 0), (-1, -1), 2)]))
        story.append(table)
        if len(content.incident_rows) > PDF_MAX_ROWS:
            story.append(p(f"The first {PDF_MAX_ROWS} incidents are listed; all "
                           f"{len(content.incident_rows)} are in incidents.csv.", s_small))
        story.append(p("Every FIRMS row of every incident is in incident_detections.csv "
                       "(and a layer of incidents.gpkg); every detection, with the war-fire "
                       "call, in detections.csv.", s_small))
    else:
        story.append(p("No incident was found in the agreement's area during the window. "
                       "The map shows the fire detections this rests on; all of them are in "
                       "detections.csv."))

    story += [CondPageBreak(50 * mm), p("Method and caveats", s_h2)]
    for heading, text in content.method:
        story += [p(heading, s_h3), p(text)]
    if content.caveats:
        story += [p("Caveats of this assessment", s_h3), bullets(content.caveats)]
    others = [t for t in content.tables if t.section != "saw"]
    if content.other or others:
        story += [p("Other figures", s_h2)]
    if content.other:
        story += [kv_table(content.other, (60 * mm, width - 60 * mm))]
    for t in others:
        story += table_block(t)
    if content.credits:
        story += [CondPageBreak(30 * mm), p("Sources and credits", s_h2),
                  bullets(content.credits, s_small)]
    if content.files:
        story += [p("Files in this report", s_h3), p(", ".join(content.files), s_small)]
    story += [Spacer(1, 8), p(content.footer, s_small)]
    if content.signer:
        story.append(p(content.signer, s_small))

    doc = SimpleDocTemplate(str(path), pagesize=A4, leftMargin=margin, rightMargin=margin,
                            topMargin=14 * mm, bottomMargin=16 * mm, title=content.title,
                            author="truceline", creator=f"truceline {__version__}",
                            subject=f"Verdict: {content.verdict}", invariant=1)
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)

def _write_pdf_matplotlib(path: Path, content: ReportContent) -> None:
    """A plain A4 PDF from Matplotlib alone: wrapped text pages, then the two figures."""
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure
    from PIL import Image

    lines: list[tuple[str, float, str]] = []  # text, font size, weight

    def add(text: str, size: float = 9.5, weight: str = "normal", width: int = 100) -> None:
        for i, chunk in enumerate(textwrap.wrap(text, width) or [""]):
            lines.append((("   " if i and text.startswith("•") else "") + chunk, size, weight))

    add(content.title, 15, "bold", 70)
    add(content.subtitle, 9, "normal")
    if content.banner:
        add(content.banner, 9.5, "bold")
    lines.append(("", 6, "normal"))
    add(f"Verdict: {content.verdict_label}", 14, "bold")
    add(content.verdict_text)
    if content.rule:
        add(content.rule, 8.5)
    for r in content.reasons:
        add("• " + r)
    if content.coverage_warning:
        add(content.coverage_warning, 9.5, "bold")
    if content.plain_summary:
        lines.append(("", 6, "normal"))
        add(content.plain_summary)
    for heading, rows in (("Agreement", content.agreement), ("Coverage", content.coverage),
                          ("Cloud cover by region", content.cloud)):
        if rows:
            lines.append(("", 6, "normal"))
            add(heading, 12, "bold")
            for k, v in rows:
                add(f"{k}: {v}")
    lines.append(("", 6, "normal"))
    add("What the satellites saw", 12, "bold")
    for s in content.summary + content.statistics:
        add("• " + s)
    for row in content.counts_rows:
        add(" | ".join(row))
    for tab in content.tables:
        add(tab.title, 10, "bold")
        add(" | ".join(tab.header), 8)
        for row in tab.rows:
            add(" | ".join(row), 8)
    lines.append(("", 6, "normal"))
    add(f"Incidents ({len(content.incident_rows)})", 12, "bold")
    for inc in content.incident_rows[:PDF_MAX_ROWS]:
        add(f"{inc['id']} · {inc['when_start']} {inc['when_end']} · {inc['place']} "
            f"{inc['coords']} · {inc['ground']} · {inc['detections']} detections · "
            f"p {inc['p']} · {inc['confidence']} · "
            f"{ex.LIST_SEPARATOR.join(inc['evidence'][:8])}", 8)
    lines.append(("", 6, "normal"))
    add("Method and caveats", 12, "bold")
    for h, t in content.method:
        add(f"{h}. {t}")
    for c in content.caveats:
        add("• " + c)
    for k, v in content.other:
        add(f"{k}: {v}", 8)
    for c in content.credits:
        add(c, 8)
    add(content.footer, 8)
    if content.signer:
        add(content.signer, 8)

    with PdfPages(path, metadata={"Title": content.title, "Creator": "truceline",
                                  "CreationDate": None, "ModDate": None}) as pdf:
        i = 0
        while i < len(lines):
            fig = Figure(figsize=(8.27, 11.69))
            y = 0.95
            while i < len(lines) and y > 0.05:
                text, size, weight = lines[i]
                fig.text(0.07, y, text, fontsize=size, fontweight=weight, va="top")
                y -= size * 1.45 / (11.69 * 72)
                i += 1
            pdf.savefig(fig)
        for rendered in (content.map_figure, content.timeline_figure,
                         content.sector_figure):
            if rendered is None:
                continue
            img = np.asarray(Image.open(BytesIO(rendered.png)))
            wide = img.shape[1] > img.shape[0]  # landscape page for a wide figure
            fig = Figure(figsize=(11.69, 8.27) if wide else (8.27, 11.69))
            ax = fig.add_axes((0.04, 0.04, 0.92, 0.92))
            ax.imshow(img)
            ax.set_axis_off()
            pdf.savefig(fig)
