"""``repatsim report``: one self-contained HTML file of a results folder, to attach to an email.

``write_report("results/torkham_2025_acc")`` writes ``report.html`` into the folder (and lists
it in its manifest); the page needs no network: figures are PNG data URIs, styles are inline.
"""

from simulation.report.document import SECTIONS, build_report
from simulation.report.folder import Folder, ReportError, open_folder
from simulation.report.writing import REPORT, is_report, write_report

__all__ = [
    "REPORT",
    "SECTIONS",
    "Folder",
    "ReportError",
    "build_report",
    "is_report",
    "open_folder",
    "write_report",
]
