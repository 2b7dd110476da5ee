"""How unlikely is the fire seen on a cell-day, and is it war?

Two stages, both pure functions of DataFrames:

1. :func:`score_cell_days` gives each cell-day with fire its ``p_natural``: the
   probability, under the sensor's peacetime climatology, of at least the fire observed
   (P(fire on the cell-day) x P(at least that many detections | fire)). It also gives
   ``p_season``: the probability, under the year-to-year spread of peacetime years, of at
   least as many fire cell-days as this year shows in the cell's wider neighbourhood and
   season (negative binomial on the climatology's ``nb_mean``/``nb_var``).
2. :func:`classify` turns scores into a war-fire label per detection with a named rule.

Rules (``RuleParams`` presets, see :data:`RULES`):

``economist``
    The Economist's published rule: a cell-day is in excess when its fire had < 5%
    probability in a normal year; a cell is war ground when excess is seen at least twice
    at least 7 days apart (and under 90 days, as in their code); its excess cell-days are
    war fire, and so is fire in the cell within 10 days after one. A count-only rule: it
    flags many large seasonal farm burns far from any front.
``seasonal`` (default)
    The same persistence and follow-on logic, but seasonal burning is modelled rather
    than thresholded. A cell-day is in excess only when (1) the fire is also unusual for
    the *season in its neighbourhood*: this year's fire cell-days within ``nb_k`` rings
    and +-15 days exceed what peacetime years produced there (p_season <
    ``season_alpha``, negative binomial with the observed year-to-year variance), so a
    burn season a few weeks early or a big burn year stays within its spread; (2) that
    expectation is first scaled by the *wide area's* (~100 km) fire rate this year over
    peacetime, so a region-wide dry spring is not a local anomaly; (3) the cell-day is
    not a *large blaze* (``blaze_max`` same-day detections in its ring-1 neighbourhood:
    wildfire, stubble or reed burn), since fire along a front shows as many small fires
    over many days; this test is not applied within ``near_line_km`` (30 km) of the line
    of contact, where fields set alight by shelling look like stubble burning (it needs
    a control map in force; without one the test applies everywhere). A persistent
    industrial hot spot is modelled, not excluded: the detections on its *site* (the
    fine sub-cells its works light in peacetime, see :mod:`truceline.analysis.baseline`)
    are the works and never count, while fire off
    the site, in the rest of its cell and around it, is judged like any other fire
    against a climatology learned without the works. A town fought over around its
    steelworks (Mariupol 2022, Avdiivka 2023) is then seen, while works far from the
    front stay quiet. The wide area's burn year
    (2) is measured twice: the second time without the fire the first pass called war
    within ``near_line_km`` of the line (``wide_without_front_war``), so a front's own
    fire does not make the burn year that excuses it. Last, *fire in a city*: off-site
    fire with p_natural < ``alpha`` inside a city of 50,000 people or more (a GeoNames
    place's urban area) within 10 km of the line is war whatever the season, wide-area,
    blaze and persistence tests say (``city_min_population``, test label ``city``):
    those tests model fields, forest and reed beds burning in their season, and a
    built-up city has none (docs/VALIDATION.md, "Fire in a city").
``seasonal+moved``
    The default until session 14: also *fire on a moving front*, off-site fire with
    p_natural < ``alpha`` that only the season, wide-area, large-blaze or persistence
    tests left natural is war on ground held by one side 14 days before it and by the
    other 14 days after (``moved_ground``, :mod:`truceline.geo.moved`; test label
    ``moved``). Dropped from the default: the calls it adds lie near an independent
    event less often than fire picked at random, and peacetime fire judged against the
    real moving line of 2022-2023 is called war 3.7 times the placebo target
    (docs/VALIDATION.md). ``seasonal-without-moved`` is the default's other name.
``seasonal-without-cities``
    The default before fire in a city counted (issue 10), with the moving front.
``seasonal-war-in-wide``
    The default before the burn year left the front's war fire out (issue 10):
    ``seasonal`` without ``wide_without_front_war``.
``seasonal-v1``
    The default before issue 10: hot spot cells blind (their fire, site or not, never
    counts) and the large-blaze test everywhere. Judge it against a climatology built
    with ``BaselineParams(hot_spot_sites=False)`` to reproduce its figures.
``seasonal-sites``, ``seasonal+line-wide``
    The default with the large-blaze test also near the line; and with the wide-area
    test also off near the line (more recall, twice the placebo's false alarms).
``seasonal+site-count``
    Also calls a site war when its own detections that day are far beyond its
    peacetime days (p_site < 0.01). Measured to call production changes at works far
    from the front war (docs/VALIDATION.md), so not the default.
``seasonal+neighbours`` (and ``-r1d3``, ``-r2d1``, ``-r2d3``, ``-loose``, ``-line``,
``-r1d3-line``, ``-r2d1-line``, ``-r2d3-line``)
    The default plus a *spatial follow-on* (hysteresis, as in Canny's edge detector):
    off-site fire with p_natural < ``alpha`` (``-loose``: 0.2) that failed only the
    season, wide-area or persistence test is war when a cell-day called war by excess
    lies within ``neighbour_rings`` H3 rings (``rK``, default 1) and
    ``neighbour_days`` days (``dD``, default 1) of it; ``-line`` variants reach only
    fire within 30 km of the line. Test label ``neighbour``; a site's fire never spreads
    nor is reached. Measured (docs/VALIDATION.md, "Spatial follow-on"): it spreads in
    peacetime about as much as at war, so only ``seasonal+neighbours-line`` keeps the
    placebo, for little recall; not the default.
``seasonal-static``
    The default before fire on a moving front counted (issue 10): ``seasonal`` without
    ``moved_ground``.
``economist+hotspots``, ``economist-strict``, ``seasonal-local``, ``seasonal-wide``
    Variants for comparison: the count rule with hot spot cells blind; the count rule
    merely thresholded harder (p < 0.001); the seasonal rule with test (1) only; with
    (1)+(2).

Every cell-day carries ``test``, the test that decided its call (:data:`TESTS`), so a
reader (and `truceline detect --detections`) can see what each test removes.

NOAA-20 and S-NPP rows both carry ``sensor == "VIIRS"``, so NOAA-20 is judged against
the VIIRS (S-NPP) climatology; docs/VALIDATION.md checks its false-alarm rate on ground
far from the line.

A cell-day with no climatology (a cell the history never saw) falls back to its region's
seasonal prior.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import sparse

from truceline.analysis.baseline import (
    Climatology,
    _adjacency,
    _with_cells,
    day_of_year,
)
from truceline.analysis.rates import nbinom_at_least
from truceline.errors import InputError

__all__ = ["LEGACY_RULES", "RULES", "TESTS", "WORKS_TESTS", "RuleParams", "classify",
           "classify_cell_days", "label_detections", "rule_params", "score_cell_days"]


@dataclass(frozen=True)
class RuleParams:
    """A war-fire rule; presets in :data:`RULES`, any field can be overridden.

    alpha: p_natural below which a cell-day is in excess (The Economist: 5%).
    min_gap_days/max_gap_days: excess must recur in the cell this many days apart.
    follow_days: fire in a war cell this many days after an excess cell-day is war too.
    season_alpha: p_season must also be below this (None: not tested, count-only rule).
    follow_season_alpha: follow-on fire must also have p_season below this (None: any).
    exclude_hot_spots: never count persistent industrial hot spots (the first version:
        the whole cell was blind, so a city fought over around its works was too).
    site_alpha: a hot spot's site is in excess when its detections that day are this
        improbable under its own peacetime days (None: the site never counts); fire
        off the site is judged like any other fire. Needs a climatology with sites.
    wide: scale the seasonal expectation by the wide area's fire rate this year.
    blaze_max: per sensor, same-day detections in the cell's ring-1 neighbourhood at or
        above which a cell-day is a large blaze (wildfire, stubble or reed burn) and not
        counted as war: fire along a front shows as many small fires over many days.
    near_line_km, near_line_skip: tests (of "blaze", "wide", "season") not applied to a
        cell-day with a detection within ``near_line_km`` of the line of contact (needs
        enriched detections; where no map is in force every test applies).
    neighbour_rings, neighbour_days: the spatial follow-on (hysteresis, 0 rings: off):
        off-site fire with p_natural < ``neighbour_alpha`` (None: ``alpha``) that failed
        only the season, wide-area or persistence tests is war when a cell-day called
        war by excess (its own off-site fire, not a site's count) of the same sensor
        lies within ``neighbour_rings`` H3 rings and ``neighbour_days`` days of it.
        One step: a cell-day called so does not spread further.
    neighbour_near_line: the spatial follow-on only reaches cell-days within
        ``near_line_km`` of the line of contact (none where no map is in force).
    moved_ground: off-site fire with p_natural < ``alpha`` that failed only the season,
        wide-area, large-blaze or persistence tests is war on ground that changed hands
        within :data:`truceline.geo.moved.MOVED_DAYS` days either side of it (detections
        with a ``moved`` column, :func:`truceline.geo.moved.changed_hands`; nowhere
        without it). Test label ``moved``.
    wide_without_front_war: the wide area's fire rate this year (``wide``) is measured
        again without the fire a first pass called war within ``near_line_km`` of the
        line, and the calls redone once, so war fire along a front does not raise the
        burn year that excuses it (:func:`classify_cell_days`).
    city_min_population, city_line_km: fire in a city (None: off): off-site fire with
        p_natural < ``alpha`` inside a city of at least ``city_min_population`` people
        (a GeoNames place's urban area, :func:`truceline.geo.places.city_population`)
        within ``city_line_km`` of the line of contact is war whatever the season,
        wide-area, blaze and persistence tests say: those tests model fields, forest and
        reed beds burning in their season, and a built-up city has none. Test label
        ``city``; nowhere without a map in force.
    line_call_km, line_call_alpha: a bound, not a detector (0 km: off): off-site fire
        with p_natural < ``line_call_alpha`` within ``line_call_km`` of the line of
        contact is war whatever the season, wide-area, blaze and persistence tests say,
        on top of the rule's own calls. Any loosening of those tests confined to that
        band calls a subset of this, so it bounds the recall such a loosening can reach
        and prices it in placebo false alarms (``truceline validate detection
        --frontier``). Test label ``line``.
    """

    name: str = "seasonal"
    alpha: float = 0.05
    min_gap_days: int = 7
    max_gap_days: int = 90
    follow_days: int = 10
    season_alpha: float | None = 0.01
    follow_season_alpha: float | None = 0.2
    exclude_hot_spots: bool = False
    site_alpha: float | None = None
    wide: bool = True
    blaze_max: tuple[tuple[str, int], ...] | None = (("VIIRS", 30), ("MODIS", 8))
    near_line_km: float = 30.0
    near_line_skip: tuple[str, ...] = ("blaze",)
    neighbour_rings: int = 0
    neighbour_days: int = 1
    neighbour_alpha: float | None = None
    neighbour_near_line: bool = False
    moved_ground: bool = False
    wide_without_front_war: bool = False
    city_min_population: int | None = None
    city_line_km: float = 10.0
    line_call_km: float = 0.0
    line_call_alpha: float = 0.05


# the first version: hot spot cells blind, every test applied everywhere
_V1 = {"exclude_hot_spots": True, "site_alpha": None, "near_line_skip": ()}

RULES: dict[str, RuleParams] = {
    "economist": RuleParams(name="economist", season_alpha=None, follow_season_alpha=None,
                            site_alpha=0.05, blaze_max=None, near_line_skip=()),
    "economist+hotspots": RuleParams(name="economist+hotspots", season_alpha=None,
                                     follow_season_alpha=None, blaze_max=None, **_V1),
    # The count rule merely thresholded harder: for comparison (docs/VALIDATION.md).
    "economist-strict": RuleParams(name="economist-strict", alpha=0.001, season_alpha=None,
                                   follow_season_alpha=None, blaze_max=None, **_V1),
    "seasonal-local": RuleParams(name="seasonal-local", wide=False, blaze_max=None,
                                 near_line_skip=()),
    "seasonal-wide": RuleParams(name="seasonal-wide", blaze_max=None, near_line_skip=()),
    # The default until issue 10: hot spot cells blind (judge it against a climatology
    # built with BaselineParams(hot_spot_sites=False) to reproduce it exactly).
    "seasonal-v1": RuleParams(name="seasonal-v1", **_V1),
    # Also count a site's own detections per day when far beyond its peacetime days:
    # measured to call the far works' production changes war (docs/VALIDATION.md).
    "seasonal+site-count": RuleParams(name="seasonal+site-count", site_alpha=0.01),
    # Hot spot sites, with the large-blaze test applied near the line too.
    "seasonal-sites": RuleParams(name="seasonal-sites", near_line_skip=()),
    # Near the line the wide-area burn-year test off too: more recall, but the placebo
    # against a forced line doubles (docs/VALIDATION.md), so not the default.
    "seasonal+line-wide": RuleParams(name="seasonal+line-wide",
                                     near_line_skip=("blaze", "wide")),
    # The default: hot spot sites; within 30 km of the line of contact the large-blaze
    # test is not applied (fields set alight by shelling look like stubble burning, and
    # the independent events lie near what it removed there as often as near war calls).
    # ... and the wide area's burn year is measured without the war fire along the front.
    # ... and improbable fire in a city of 50,000 or more within 10 km of the line is war.
    # Not fire on ground that changed hands (``moved_ground``, the default from 541e5a0
    # to session 14, now ``seasonal+moved``): its calls lie near an independent event less
    # often than fire picked at random and fail the placebo against a moving line 3.7
    # times over; `assess` still refuses `held` where the maps show the line moving under
    # improbable fire (docs/VALIDATION.md, "Fire on a moving front").
    "seasonal": RuleParams(wide_without_front_war=True, city_min_population=50_000),
}


def _neighbour_rules() -> dict[str, RuleParams]:
    """The spatial follow-on (issue 10): improbable fire beside a sustained war call
    within k rings and d days is war too, though the season, wide-area or persistence
    test left it natural; every point of the measured grid (k in 1, 2; d in 1, 3;
    anywhere, or ``-line``: only within near_line_km of the line), and ``-loose`` (the
    weak side needs only p_natural < 0.2). docs/VALIDATION.md, "Spatial follow-on"."""
    grid = {f"-r{k}d{d}" if (k, d) != (1, 1) else "": (k, d)
            for k in (1, 2) for d in (1, 3)}
    out = {}
    for tag, (k, d) in grid.items():
        for line in (False, True):
            name = "seasonal+neighbours" + tag + ("-line" if line else "")
            out[name] = RuleParams(name=name, neighbour_rings=k, neighbour_days=d,
                                   neighbour_near_line=line)
    out["seasonal+neighbours-loose"] = RuleParams(
        name="seasonal+neighbours-loose", neighbour_rings=1, neighbour_days=1,
        neighbour_alpha=0.2)
    return out


RULES.update(_neighbour_rules())
# The default until fire on a moving front counted (issue 10): docs/VALIDATION.md.
# (The other presets predate it and keep the figures they were measured with.)
RULES["seasonal-static"] = RuleParams(name="seasonal-static")
# The default until the wide area's burn year left war fire out (issue 10).
RULES["seasonal-war-in-wide"] = RuleParams(name="seasonal-war-in-wide", moved_ground=True)
# The default until fire in a city near the line counted (issue 10).
RULES["seasonal-without-cities"] = RuleParams(name="seasonal-without-cities",
                                              moved_ground=True, wide_without_front_war=True)
# The default until session 14: with fire on a moving front (``moved_ground``).
RULES["seasonal+moved"] = RuleParams(name="seasonal+moved", moved_ground=True,
                                     wide_without_front_war=True, city_min_population=50_000)
# The name the default had while it was measured against the rule above (session 14,
# docs/VALIDATION.md): the default's parameters, so those commands still run as written.
RULES["seasonal-without-moved"] = RuleParams(name="seasonal-without-moved",
                                             wide_without_front_war=True,
                                             city_min_population=50_000)
# The name the city test had while it was a preset (runs O and Q of the verdict study,
# docs/VALIDATION.md): the parameters those runs measured (``seasonal+moved``).
RULES["seasonal+cities"] = RuleParams(name="seasonal+cities", moved_ground=True,
                                      wide_without_front_war=True, city_min_population=50_000)


#: Rules measured against a climatology built as it was in their time (without hot spot
#: sites: ``BaselineParams(hot_spot_sites=False)``, which ``validate detection`` builds
#: for them); against a lake's climatology they run, but not as documented.
LEGACY_RULES = frozenset({"seasonal-v1"})


def rule_params(rule: str | RuleParams, **overrides: object) -> RuleParams:
    """A preset by name (or a RuleParams as is), with fields overridden."""
    if isinstance(rule, RuleParams):
        base = rule
    else:
        if rule not in RULES:
            raise InputError(f"rule {rule!r}: no such rule; choose one of "
                             f"{', '.join(sorted(RULES))}")
        base = RULES[rule]
    return replace(base, **overrides) if overrides else base  # type: ignore[arg-type]


def _nb_sf(x: np.ndarray, mean: np.ndarray, var: np.ndarray) -> np.ndarray:
    """P(X >= x) for a negative binomial with this mean and variance (Poisson if var<=mean).

    A floor on the mean (0.5 fire cell-days) and on the overdispersion keeps a quiet
    history from making one extra fire look impossible.
    """
    mu = np.maximum(mean, 0.5)
    return nbinom_at_least(np.ceil(x), mu, np.maximum(var, mu * 1.5))


def score_cell_days(detections: pd.DataFrame,
                    climatologies: Mapping[str, Climatology]) -> pd.DataFrame:
    """Cell-days with fire, scored against each detection's own sensor's climatology.

    Returns one row per (sensor, cell, date): n_det, doy, p_fire, p_count, p_natural,
    x_season (fire cell-days in the neighbourhood-season this year), p_season, hot_spot.
    """
    missing = {"lon", "lat", "acq_date", "sensor"} - set(detections.columns)
    if missing:
        raise InputError(f"detections lack column(s) {sorted(missing)}")
    frames = []
    for sensor, part in detections.groupby("sensor", sort=True):
        if sensor not in climatologies:
            raise InputError(f"no climatology for sensor {sensor!r}; "
                             f"have {sorted(climatologies)}")
        frames.append(_score_sensor(part, climatologies[str(sensor)]))
    if not frames:
        return pd.DataFrame(columns=["sensor", "cell", "date", "n_det", "n_site", "doy",
                                     "p_fire", "p_count", "p_natural", "x_season",
                                     "p_season", "hot_spot", "p_site"])
    return pd.concat(frames, ignore_index=True)


def _score_sensor(det: pd.DataFrame, clim: Climatology) -> pd.DataFrame:
    cells = _with_cells(det, clim.resolution)
    dates = pd.to_datetime(det["acq_date"]).dt.normalize()
    on = clim.on_site(det["lon"].to_numpy(), det["lat"].to_numpy(), cells)
    cd = (pd.DataFrame({"cell": cells, "date": dates.to_numpy(), "n_det": ~on,
                        "n_site": on})
          .groupby(["cell", "date"], sort=True).sum().astype(np.int64).reset_index())
    cd.insert(0, "sensor", clim.sensor)
    cd["doy"] = day_of_year(cd["date"])
    ci = clim.cell_index(cd["cell"].to_numpy())
    known = ci >= 0
    d0 = cd["doy"].to_numpy() - 1
    p_fire = np.empty(len(cd))
    p_fire[known] = clim.p[ci[known], d0[known]]
    ri = np.where(known, clim.region_of_cell[np.maximum(ci, 0)], -1)
    if (~known).any():
        ri[~known] = clim.region_index(cd["cell"].to_numpy()[~known])
    overall = float(clim.region_p.mean())
    unk = ~known
    p_fire[unk] = np.where(ri[unk] >= 0, clim.region_p[np.maximum(ri[unk], 0), d0[unk]],
                           overall)
    month = cd["date"].dt.month.to_numpy() - 1
    n_off = cd["n_det"].to_numpy()
    nidx = np.clip(n_off, 1, clim.count_sf.shape[2]) - 1
    global_sf = clim.count_sf.mean(axis=0)
    p_count = np.where(ri >= 0, clim.count_sf[np.maximum(ri, 0), month, nidx],
                       global_sf[month, nidx])
    cd["p_fire"] = p_fire
    cd["p_count"] = p_count
    # a cell-day whose only fire is a hot spot's site has no off-site fire to judge
    cd["p_natural"] = np.where(n_off > 0, p_fire * p_count, 1.0)
    cd["hot_spot"] = np.where(known, clim.hot_spot[np.maximum(ci, 0)], False)
    cd["p_site"] = _site_p(cd["n_site"].to_numpy(), ci, clim)

    # Fire size: detections the same day in the cell and its ring-1 neighbours.
    cd["blaze"] = _same_day_ring_counts(cd)
    # Nearest approach to the line of contact (km) of the cell-day's detections, when
    # enrichment gave distances; NaN where no map was in force.
    per_cell_day = pd.MultiIndex.from_frame(cd[["cell", "date"]])

    def by_cell_day(values: np.ndarray, how: str) -> np.ndarray:
        return pd.Series(values).groupby([cells, dates.to_numpy()], sort=True).agg(how) \
            .reindex(per_cell_day).to_numpy()

    cd["line_km"] = by_cell_day(np.abs(det["distance_km"].to_numpy(dtype=float)), "min") \
        if "distance_km" in det.columns else np.nan
    # Whether any of the cell-day's detections lay on ground that changed hands
    # (geo.moved); absent (never) when enrichment did not say.
    cd["moved"] = by_cell_day(det["moved"].fillna(False).to_numpy(dtype=bool), "any") \
        if "moved" in det.columns else False
    # The largest city whose urban area holds one of its off-site detections (0: none);
    # a works' site inside a city is the works, not the city burning.
    cd["city_pop"] = by_cell_day(np.where(on, 0, _city_population(det)), "max")

    # This year's fire cell-days in the wider neighbourhood and season window.
    x = _neighbourhood_season_counts(cd, clim, ci)
    cd["x_season"] = x
    cd["p_season"] = _nb_sf(x, *_season_moments(clim, ci, d0))

    # Region-wide burn years: scale the expectation by the wide area's fire rate this
    # year relative to peacetime (never below 1: a quiet year does not sharpen the test).
    cd["wide_factor"], cd["p_season_wide"] = _wide_scaled(cd, clim, ci,
                                                          np.ones(len(cd), dtype=bool))
    return cd


def _city_population(det: pd.DataFrame) -> np.ndarray:
    from truceline.geo.places import city_population

    return city_population(det["lon"].to_numpy(), det["lat"].to_numpy())


def _wide_scaled(cd: pd.DataFrame, clim: Climatology, ci: np.ndarray,
                 counted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(wide_factor, p_season_wide) of each cell-day: the neighbourhood-season test with
    its peacetime expectation scaled by the wide area's fire rate this period over
    peacetime (never below 1), the rate taken over the fire of the ``counted`` cell-days
    (a mask; the others stay cell-days of their wide area, without fire)."""
    known = ci >= 0
    d0 = cd["doy"].to_numpy() - 1
    wide_obs = _wide_rate_now(cd, clim, ci, counted)
    wide_hist = np.where(known, clim.wide_rate[np.maximum(ci, 0), d0], np.nan)
    factor = np.where(wide_hist > 0, wide_obs / np.maximum(wide_hist, 1e-12), 1.0)
    factor = np.clip(np.nan_to_num(factor, nan=1.0), 1.0, None)
    mean, var = _season_moments(clim, ci, d0)
    return factor, _nb_sf(cd["x_season"].to_numpy(), mean * factor, var * factor**2)


def _season_moments(clim: Climatology, ci: np.ndarray, d0: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Peacetime mean and variance of the neighbourhood-season count (0 where unknown)."""
    known = ci >= 0
    return (np.where(known, clim.nb_mean[np.maximum(ci, 0), d0], 0.0),
            np.where(known, clim.nb_var[np.maximum(ci, 0), d0], 0.0))


def _site_p(n_site: np.ndarray, ci: np.ndarray, clim: Climatology) -> np.ndarray:
    """P(at least the site detections seen | the site's peacetime days); 1 where none."""
    out = np.ones(len(n_site))
    use = (n_site > 0) & (ci >= 0)
    if not clim.has_sites or not use.any():
        return out
    sf = clim.site_sf[ci[use], np.minimum(n_site[use], clim.site_sf.shape[1]) - 1]
    out[use] = np.where(np.isfinite(sf), sf, 1.0)
    return out


def _wide_rate_now(cd: pd.DataFrame, clim: Climatology, ci: np.ndarray,
                   counted: np.ndarray) -> np.ndarray:
    """This period's fire rate (fire cell-days per modelled cell-day) in each cell-day's
    wide area, over the same +-nb_day_window days (clipped at the period's ends), from
    the ``counted`` cell-days' off-site fire; NaN for cells the climatology does not know
    (``ci``: their index in it, -1 when unknown), whose expectation is never scaled."""
    params = clim.params
    cells = clim.cells
    op, parent = clim.wide_operator()  # parents x cells
    day0 = cd["date"].min()
    t = ((cd["date"] - day0).dt.days).to_numpy()
    nt = int(t.max()) + 1
    ok = ci >= 0
    fire_ok = ok & counted & (cd["n_det"].to_numpy() > 0)  # off-site, as in the history
    fire = sparse.csr_matrix((np.ones(int(fire_ok.sum())), (ci[fire_ok], t[fire_ok])),
                             shape=(len(cells), nt))
    h = params.nb_day_window
    lo = np.clip(np.arange(nt) - h, 0, nt)
    hi = np.clip(np.arange(nt) + h + 1, 0, nt)
    # window sums stay sparse: the fire matrix times a band of ones (|i - j| <= h)
    reach = range(-min(h, nt - 1), min(h, nt - 1) + 1)
    band = sparse.diags([np.ones(nt - abs(k)) for k in reach], list(reach), shape=(nt, nt),
                        format="csr")
    per_cell = (fire @ band).tocsr()
    if params.wide_cell_cap is not None:
        per_cell.data = np.minimum(per_cell.data, params.wide_cell_cap)
    trials = np.asarray(op.sum(axis=1)).ravel()
    win = (op @ per_cell).toarray() / (np.maximum(trials, 1)[:, None]
                                       * (hi - lo)[None, :])
    out = np.full(len(cd), np.nan)
    out[ok] = win[parent[ci[ok]], t[ok]]  # each cell-day's wide parent row
    return out


def _same_day_ring_counts(cd: pd.DataFrame) -> np.ndarray:
    """Detections on the same day in each cell and its grid_disk(1) neighbours."""
    cells_u, cinv = np.unique(cd["cell"].to_numpy(), return_inverse=True)
    day0 = cd["date"].min()
    t = ((cd["date"] - day0).dt.days).to_numpy()
    nt = int(t.max()) + 1
    m = sparse.csr_matrix((cd["n_det"].to_numpy().astype(float), (cinv, t)),
                          shape=(len(cells_u), nt))
    spread = (_adjacency(np.asarray(cells_u, dtype=object), 1) @ m).tocsr()
    return np.asarray(spread[cinv, t]).ravel()


def _neighbourhood_season_counts(cd: pd.DataFrame, clim: Climatology,
                                 ci: np.ndarray) -> np.ndarray:
    """Fire cell-days within nb_k rings and +-nb_day_window days of each cell-day.

    Dense over (cells seen, days in the period): a sparse ring matrix times the daily
    fire matrix, then a running window sum over days; no loop over detections.
    """
    params = clim.params
    cells_u, cinv = np.unique(cd["cell"].to_numpy(), return_inverse=True)
    day0 = cd["date"].min()
    t = ((cd["date"] - day0).dt.days).to_numpy()
    nt = int(t.max()) + 1
    h = params.nb_day_window
    lit = (cd["n_det"].to_numpy() > 0).astype(float)  # off-site fire, as in the history
    fire = sparse.csr_matrix((lit, (cinv, t)), shape=(len(cells_u), nt))
    adj = _adjacency(np.asarray(cells_u, dtype=object), params.nb_k)
    spread = (adj @ fire).toarray()
    cs = np.concatenate([np.zeros((len(cells_u), 1)), np.cumsum(spread, axis=1)], axis=1)
    lo = np.clip(np.arange(nt) - h, 0, nt)
    hi = np.clip(np.arange(nt) + h + 1, 0, nt)
    win = cs[:, hi] - cs[:, lo]
    return win[cinv, t]


def classify(detections: pd.DataFrame, climatologies: Mapping[str, Climatology],
             rule: str | RuleParams = "seasonal",
             scores: pd.DataFrame | None = None) -> pd.DataFrame:
    """Label every detection war / not war under ``rule``; returns a copy with columns
    cell, p_natural, p_season, excess, war (bool), hot_spot.

    ``scores`` (from :func:`score_cell_days`) can be passed to try several rules at the
    cost of one scoring.
    """
    params = rule_params(rule)
    if scores is None:
        scores = score_cell_days(detections, climatologies)
    return label_detections(detections, classify_cell_days(scores, climatologies, params),
                            climatologies)


def label_detections(detections: pd.DataFrame, cell_days: pd.DataFrame,
                     climatologies: Mapping[str, Climatology]) -> pd.DataFrame:
    """Each detection with its cell-day's call (:func:`classify_cell_days`): a copy with
    columns cell, p_natural, p_season, p_site, excess, war (bool), test, hot_spot."""
    results = ["p_natural", "p_season", "p_site", "excess", "war", "test", "hot_spot",
               "incident_id"]
    out = detections.drop(columns=[c for c in results if c in detections.columns])
    res = {c.resolution for c in climatologies.values()}
    if len(res) != 1:
        raise InputError(f"climatologies disagree on H3 resolution: {sorted(res)}")
    out["cell"] = _with_cells(out, res.pop())
    out["_date"] = pd.to_datetime(out["acq_date"]).dt.normalize()
    cols = ["sensor", "cell", "date", "p_natural", "p_season", "p_site", "excess", "war",
            "test", "hot_spot"]
    merged = out.merge(cell_days[cols].rename(columns={"date": "_date"}),
                       on=["sensor", "cell", "_date"], how="left", validate="many_to_one")
    merged["war"] = merged["war"].fillna(False).astype(bool)
    merged["excess"] = merged["excess"].fillna(False).astype(bool)
    merged["test"] = pd.Categorical(merged["test"], categories=list(TESTS))
    merged.index = out.index
    return merged.drop(columns="_date")


def classify_cell_days(scores: pd.DataFrame, climatologies: Mapping[str, Climatology],
                       rule: str | RuleParams = "seasonal") -> pd.DataFrame:
    """Each scored cell-day (:func:`score_cell_days`) called under ``rule``: columns
    excess, war, test added, sorted by sensor, cell and date.

    With ``wide_without_front_war`` the calls are made twice: the second time, the wide
    area's burn-year rate leaves out the fire the first pass called war within
    ``near_line_km`` of the line, so war fire along a front does not raise the burn year
    that excuses it. Once, and only near the line: each pass can only add calls, and
    repeated passes would let a burn year along a line feed on its own calls
    (docs/VALIDATION.md measures both); where no map is in force nothing changes.
    """
    rp = rule_params(rule)
    cd = _classify_cell_days(scores, rp)  # the scores' columns too, sorted
    if not (rp.wide and rp.wide_without_front_war):
        return cd
    # the season machinery's own calls (``city`` and a bound's ``line`` calls are added
    # on top, not fed back: they say nothing about fields burning)
    front_war = (cd["war"].to_numpy() & ~np.isin(cd["test"].to_numpy(), ["line", "city"])
                 & (_line_km(cd) <= rp.near_line_km))
    if not front_war.any():
        return cd
    return _classify_cell_days(_natural_wide(cd, climatologies, ~front_war), rp)


def _natural_wide(scores: pd.DataFrame, climatologies: Mapping[str, Climatology],
                  counted: np.ndarray) -> pd.DataFrame:
    """``scores`` with wide_factor and p_season_wide re-measured from the fire of the
    ``counted`` cell-days only (a mask in the order of ``scores``); a cell-day left out
    adds no fire to its wide area but stays one of its cell-days."""
    out = scores.copy()
    sensors = out["sensor"].to_numpy()
    for sensor, clim in climatologies.items():
        rows = np.flatnonzero(sensors == sensor)
        if not len(rows):
            continue
        part = out.iloc[rows]
        ci = clim.cell_index(part["cell"].to_numpy())
        factor, p = _wide_scaled(part, clim, ci, counted[rows])
        out.iloc[rows, out.columns.get_loc("wide_factor")] = factor
        out.iloc[rows, out.columns.get_loc("p_season_wide")] = p
    return out


#: The test that decided each cell-day's call (column ``test``): the three ways to war,
#: then, for fire left natural, the first test it did not pass.
TESTS: dict[str, str] = {
    "excess": "war: improbable fire recurring in the cell",
    "site": "war: a hot spot's site far beyond its own peacetime days, recurring",
    "follow-on": "war: fire within the follow-on days after war fire in the cell",
    "neighbour": "war: improbable fire within the neighbour rings and days of war fire",
    "moved": "war: improbable fire on ground that changed hands within 14 days of it",
    "city": "war: improbable fire in a city near the line of contact (no field burning "
            "there)",
    "line": "war (a bound, not a detector): improbable fire within line_call_km of the "
            "line, whatever the other tests say",
    "p_natural": "natural: the fire is not improbable for the cell and season",
    "season": "natural: within the neighbourhood's burn season (p_season)",
    "wide": "natural: the wide area burns more this year (wide-area burn year)",
    "blaze": "natural: a large blaze (wildfire, stubble or reed burn)",
    "hot-spot": "natural: a persistent industrial hot spot (rule excludes them)",
    "site-normal": "natural: a hot spot's site within its own peacetime days",
    "persistence": "natural: improbable, but not recurring 7-90 days apart",
}
#: The tests that leave a works' usual fire natural: never war, and no evidence of war
#: (their p_natural, where any, says nothing of fighting).
WORKS_TESTS = ("site-normal", "hot-spot")


def _classify_cell_days(cd: pd.DataFrame, rp: RuleParams) -> pd.DataFrame:
    """Apply excess, persistence and follow-on logic per (sensor, cell), vectorised;
    ``test`` names what decided each cell-day (:data:`TESTS`)."""
    cd = cd.sort_values(["sensor", "cell", "date"]).reset_index(drop=True)
    nat = cd["p_natural"].to_numpy() < rp.alpha
    local = cd["p_season"].to_numpy()
    season = cd["p_season_wide" if rp.wide else "p_season"].to_numpy()
    near = np.zeros(len(cd), dtype=bool)
    if rp.near_line_skip:
        near = _line_km(cd) <= rp.near_line_km
    if "wide" in rp.near_line_skip:
        season = np.where(near, local, season)
    if "season" in rp.near_line_skip:
        local = np.where(near, 0.0, local)
        season = np.where(near, 0.0, season)
    hot = cd["hot_spot"].to_numpy(dtype=bool)
    ok_local = np.ones(len(cd), dtype=bool)
    ok_season = np.ones(len(cd), dtype=bool)
    if rp.season_alpha is not None:
        ok_local = local < rp.season_alpha
        ok_season = season < rp.season_alpha
    small = np.ones(len(cd), dtype=bool)
    if rp.blaze_max is not None:
        cap = pd.Series(dict(rp.blaze_max)).reindex(cd["sensor"]).to_numpy(dtype=float)
        small = ~(cd["blaze"].to_numpy() >= np.nan_to_num(cap, nan=np.inf))
        if "blaze" in rp.near_line_skip:
            small |= near
    blind = hot if rp.exclude_hot_spots else np.zeros(len(cd), dtype=bool)
    excess = nat & ok_season & small & ~blind
    p_site = cd["p_site"].to_numpy() if "p_site" in cd else np.ones(len(cd))
    site = np.zeros(len(cd), dtype=bool)
    if rp.site_alpha is not None:
        site = (p_site < rp.site_alpha) & ~blind
    excess |= site
    cd["excess"] = excess

    key = pd.factorize(pd.MultiIndex.from_frame(cd[["sensor", "cell"]]))[0]
    day = (cd["date"].to_numpy().astype("datetime64[D]").astype(np.int64))

    # Persistence: an excess cell-day with another excess in the same cell between
    # min_gap and max_gap days before or after it.
    ex_idx = np.flatnonzero(excess)
    ex_key, ex_day = key[ex_idx], day[ex_idx]
    order = np.lexsort((ex_day, ex_key))
    ex_key, ex_day, ex_idx = ex_key[order], ex_day[order], ex_idx[order]
    comp = ex_key * 10**7 + ex_day  # sortable (key, day)
    lo_after = np.searchsorted(comp, comp + rp.min_gap_days, side="left")
    hi_after = np.searchsorted(comp, comp + rp.max_gap_days, side="right")
    lo_before = np.searchsorted(comp, comp - rp.max_gap_days, side="left")
    hi_before = np.searchsorted(comp, comp - rp.min_gap_days, side="right")
    sustained = (hi_after > lo_after) | (hi_before > lo_before)
    war = np.zeros(len(cd), dtype=bool)
    war[ex_idx[sustained]] = True
    by_excess = war.copy()

    # Follow-on: any fire in the cell within follow_days after a war excess cell-day.
    follow = np.zeros(len(cd), dtype=bool)
    if rp.follow_days > 0 and war.any():
        w_idx = np.flatnonzero(war)
        wcomp = np.sort(key[w_idx] * 10**7 + day[w_idx])
        allcomp = key * 10**7 + day
        pos = np.searchsorted(wcomp, allcomp - 1, side="right") - 1  # latest war day < today
        has = pos >= 0
        prev = np.where(has, wcomp[np.maximum(pos, 0)], -1)
        follow = has & (prev // 10**7 == key) & (allcomp - prev <= rp.follow_days) & (
            allcomp - prev >= 1)
        if rp.follow_season_alpha is not None:
            follow &= season < rp.follow_season_alpha
        follow &= ~blind & small & ~war
        war |= follow

    off = cd["n_det"].to_numpy() > 0 if "n_det" in cd else np.ones(len(cd), dtype=bool)
    beside = np.zeros(len(cd), dtype=bool)
    if rp.neighbour_rings > 0:
        # strong: war by its own improbable off-site fire (never a site's count)
        strong = by_excess & nat & ok_season & small
        weak_alpha = rp.alpha if rp.neighbour_alpha is None else rp.neighbour_alpha
        weak = (cd["p_natural"].to_numpy() < weak_alpha) & off & small & ~blind & ~war
        if rp.neighbour_near_line:
            weak &= _line_km(cd) <= rp.near_line_km
        beside = weak & _beside(cd, day, strong, weak, rp.neighbour_rings,
                                rp.neighbour_days)
        war |= beside
    moved = np.zeros(len(cd), dtype=bool)
    if rp.moved_ground and "moved" in cd:
        moved = cd["moved"].fillna(False).to_numpy(dtype=bool) & nat & off & ~blind & ~war
        war |= moved
    city = np.zeros(len(cd), dtype=bool)
    if rp.city_min_population is not None and "city_pop" in cd:
        city = (nat & off & ~blind & ~war
                & (cd["city_pop"].to_numpy() >= rp.city_min_population)
                & (_line_km(cd) <= rp.city_line_km))
        war |= city
    line = np.zeros(len(cd), dtype=bool)
    if rp.line_call_km > 0:
        line = ((cd["p_natural"].to_numpy() < rp.line_call_alpha) & off & ~blind & ~war
                & (_line_km(cd) <= rp.line_call_km))
        war |= line
    cd["war"] = war

    test = np.select(
        [by_excess & site & ~(nat & ok_season & small), by_excess, follow, beside, moved,
         city, line, blind, ~off & ~site, excess, ~nat, ~ok_local, ~ok_season, ~small],
        ["site", "excess", "follow-on", "neighbour", "moved", "city", "line", "hot-spot",
         "site-normal",
         "persistence", "p_natural", "season", "wide", "blaze"], default="persistence")
    cd["test"] = test
    return cd


def _line_km(cd: pd.DataFrame) -> np.ndarray:
    """Each cell-day's distance to the line (km); infinite where no map was in force."""
    if "line_km" not in cd:
        return np.full(len(cd), np.inf)
    return np.nan_to_num(cd["line_km"].to_numpy(dtype=float), nan=np.inf)


def _beside(cd: pd.DataFrame, day: np.ndarray, strong: np.ndarray, weak: np.ndarray,
            rings: int, days: int) -> np.ndarray:
    """For each cell-day: is a ``strong`` cell-day of the same sensor within ``rings``
    H3 rings and ``days`` days of it? Only ``weak`` rows are answered (False elsewhere).

    A sparse ring matrix (cells x cells) times the strong cell-days dilated over
    +-days (cells x sensor-days), read at the weak cell-days; no loop over detections.
    """
    out = np.zeros(len(cd), dtype=bool)
    if not strong.any() or not weak.any():
        return out
    use = strong | weak
    cells_u, cinv = np.unique(cd["cell"].to_numpy()[use], return_inverse=True)
    _, sinv = np.unique(cd["sensor"].to_numpy()[use].astype(str), return_inverse=True)
    t = day[use] - day[use].min()
    nt = int(t.max()) + 1
    col = sinv * nt + t
    s_rows, s_t, s_col = cinv[strong[use]], t[strong[use]], col[strong[use]]
    shifts = np.arange(-days, days + 1)
    rows = np.repeat(s_rows, len(shifts))
    cols = (s_col[:, None] + shifts[None, :]).ravel()
    inside = ((s_t[:, None] + shifts[None, :]) >= 0).ravel() & (
        (s_t[:, None] + shifts[None, :]) < nt).ravel()
    seeds = sparse.csr_matrix((np.ones(int(inside.sum())), (rows[inside], cols[inside])),
                              shape=(len(cells_u), int(sinv.max() + 1) * nt))
    spread = (_adjacency(np.asarray(cells_u, dtype=object), rings) @ seeds).tocsr()
    w = weak[use]
    hit = np.asarray(spread[cinv[w], col[w]]).ravel() > 0
    idx = np.flatnonzero(use)[w]
    out[idx] = hit
    return out
