"""Reports laid out: HTML from the Jinja templates, PDF from the same HTML through WeasyPrint."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from partnerscope.reports.content import ReportError

if TYPE_CHECKING:
    import jinja2

    from partnerscope.reports.content import Report


@cache
def environment() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("partnerscope.reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def html(report: Report) -> str:
    """The report as one self-contained HTML page: its charts rendered to SVG and inlined."""
    from partnerscope.reports.charts import data_uri, empty

    images = {name: data_uri(spec) for name, spec in report.charts.items() if not empty(spec)}
    template = environment().get_template(f"{report.kind}.html.j2")
    return template.render(report=report, images=images, words=report.words)


def pdf(page: str) -> bytes:
    """The HTML page printed to PDF by WeasyPrint (A4, a QBR landscape; the run and its date
    in every page's footer)."""
    try:
        import weasyprint
        from weasyprint.urls import URLFetcher
    except OSError as exc:  # the Python package is there, the system's text libraries are not
        raise ReportError(
            f"PDF reports need the pango text libraries ({exc}); install them with "
            "`sudo bash scripts/setup-system` or `apt-get install libpango-1.0-0 "
            "libpangoft2-1.0-0 libharfbuzz-subset0`, or write --format html"
        ) from None

    # a report fetches nothing: its charts are data: URIs; anything else is an error
    offline = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    out: bytes = weasyprint.HTML(string=page, url_fetcher=offline).write_pdf()
    return out
