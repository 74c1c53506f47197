"""The default procedure catalog every new clinic starts from (CDT-style codes).

Fees are typical US general-practice fees in cents; each clinic edits its own copy.
Durations are chair minutes. Hygienists may perform preventive, hygiene and most
diagnostic work; everything else needs a dentist.
"""

from __future__ import annotations

from dataclasses import dataclass

from core_app.domain.practice import ProcedureCategory as C


@dataclass(frozen=True)
class CatalogEntry:
    code: str
    name: str
    category: C
    duration_min: int
    fee_cents: int
    hygienist_allowed: bool


DEFAULT_CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry("D0120", "Periodic oral evaluation", C.DIAGNOSTIC, 15, 6_500, False),
    CatalogEntry(
        "D0140", "Limited oral evaluation, problem focused", C.EMERGENCY, 20, 9_000, False
    ),
    CatalogEntry(
        "D0150", "Comprehensive oral evaluation, new patient", C.DIAGNOSTIC, 45, 11_500, False
    ),
    CatalogEntry(
        "D0210", "Intraoral complete series of radiographic images", C.DIAGNOSTIC, 30, 15_000, True
    ),
    CatalogEntry(
        "D0220", "Intraoral periapical first radiographic image", C.DIAGNOSTIC, 10, 3_500, True
    ),
    CatalogEntry("D0274", "Bitewings, four radiographic images", C.DIAGNOSTIC, 15, 7_500, True),
    CatalogEntry("D0330", "Panoramic radiographic image", C.DIAGNOSTIC, 15, 13_000, True),
    CatalogEntry("D1110", "Prophylaxis, adult", C.HYGIENE, 60, 12_000, True),
    CatalogEntry("D1120", "Prophylaxis, child", C.HYGIENE, 45, 8_500, True),
    CatalogEntry("D1206", "Topical application of fluoride varnish", C.PREVENTIVE, 10, 4_500, True),
    CatalogEntry("D1351", "Sealant, per tooth", C.PREVENTIVE, 15, 5_500, True),
    CatalogEntry(
        "D4341",
        "Periodontal scaling and root planing, four or more teeth per quadrant",
        C.PERIODONTIC,
        60,
        26_000,
        True,
    ),
    CatalogEntry(
        "D4342",
        "Periodontal scaling and root planing, one to three teeth per quadrant",
        C.PERIODONTIC,
        45,
        18_500,
        True,
    ),
    CatalogEntry("D4910", "Periodontal maintenance", C.HYGIENE, 60, 16_500, True),
    CatalogEntry(
        "D2140", "Amalgam, one surface, primary or permanent", C.RESTORATIVE, 30, 15_500, False
    ),
    CatalogEntry(
        "D2150", "Amalgam, two surfaces, primary or permanent", C.RESTORATIVE, 40, 19_500, False
    ),
    CatalogEntry(
        "D2330", "Resin-based composite, one surface, anterior", C.RESTORATIVE, 30, 17_500, False
    ),
    CatalogEntry(
        "D2391", "Resin-based composite, one surface, posterior", C.RESTORATIVE, 40, 20_000, False
    ),
    CatalogEntry(
        "D2392", "Resin-based composite, two surfaces, posterior", C.RESTORATIVE, 50, 25_000, False
    ),
    CatalogEntry("D2740", "Crown, porcelain/ceramic", C.PROSTHODONTIC, 90, 125_000, False),
    CatalogEntry(
        "D2750", "Crown, porcelain fused to high noble metal", C.PROSTHODONTIC, 90, 120_000, False
    ),
    CatalogEntry(
        "D2950", "Core buildup, including any pins when required", C.RESTORATIVE, 30, 27_500, False
    ),
    CatalogEntry("D3310", "Endodontic therapy, anterior tooth", C.ENDODONTIC, 75, 85_000, False),
    CatalogEntry("D3330", "Endodontic therapy, molar tooth", C.ENDODONTIC, 120, 120_000, False),
    CatalogEntry("D5110", "Complete denture, maxillary", C.PROSTHODONTIC, 60, 180_000, False),
    CatalogEntry(
        "D6010", "Surgical placement of implant body, endosteal", C.SURGERY, 120, 210_000, False
    ),
    CatalogEntry(
        "D7140", "Extraction, erupted tooth or exposed root", C.SURGERY, 30, 19_000, False
    ),
    CatalogEntry(
        "D7210", "Extraction, erupted tooth requiring removal of bone", C.SURGERY, 45, 32_000, False
    ),
    CatalogEntry(
        "D7240", "Removal of impacted tooth, completely bony", C.SURGERY, 60, 45_000, False
    ),
    CatalogEntry(
        "D8090",
        "Comprehensive orthodontic treatment, adult dentition",
        C.ORTHODONTIC,
        60,
        550_000,
        False,
    ),
    CatalogEntry(
        "D9110", "Palliative treatment of dental pain, per visit", C.EMERGENCY, 30, 12_000, False
    ),
    CatalogEntry("D9972", "External bleaching, per arch", C.PREVENTIVE, 60, 35_000, False),
)
