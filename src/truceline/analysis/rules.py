"""The verdict rules (:data:`RULES`) and the function that applies them in order.

Kept apart from the statistics and the assembly of an assessment so the rules can be
read, quoted in reports and tested on their own.
"""

from __future__ import annotations

import math
from typing import Any

from truceline.analysis.coverage import Coverage

__all__ = ["ALPHA_FALSE_ALARM", "ALPHA_SITE_BLOCK", "ALPHA_VIOLATION",
           "ALPHA_HELD_FALSE_ALARMS", "DEFAULT_FALSE_INCIDENTS_PER_DAY", "NEAR_LINE_KM",
           "RULES", "apply_rules"]

#: An incident supports ``violated`` only when its lowest p_natural is below this.
ALPHA_VIOLATION = 0.01
#: A fire at a protected site with p_natural below this blocks ``held`` (not natural enough
#: to ignore) even when it is too weak to prove a violation.
ALPHA_SITE_BLOCK = 0.05
#: Peacetime false alarms: incidents with p_min < 0.01 per day within 0-30 km of a whole
#: front line of ~1,200 km, when the caller measures none for the scope (see
#: :func:`false_incident_rate`). Measured on the southern third of the 2023 line over
#: 2018-2021 (docs/VALIDATION.md, Assessment): 0.016 a day there pooled, 0.027 in the
#: worst year (2021); about tripled for the whole line and rounded up.
DEFAULT_FALSE_INCIDENTS_PER_DAY = 0.1
#: The count of proving incidents must be this improbable as false alarms (split in two
#: halves when V1 also looks at the contact zone: two looks at one window).
ALPHA_FALSE_ALARM = 0.01
#: The contact zone (km either side of the line) that V1 also tests on its own: where
#: the forces meet, and about the line's own positional uncertainty (~3 km) plus a
#: margin. Farm fires are spread by area; fighting is not.
NEAR_LINE_KM = 5.0
#: ``held`` tolerates incidents away from the contact zone when their number is this
#: probable as peacetime false alarms (within the 95 % range of the false-incident rate).
ALPHA_HELD_FALSE_ALARMS = 0.05

#: The verdict rules, in the order they are tried; the first that applies decides.
RULES: dict[str, str] = {
    "V1": "violated: at least one incident in scope with detections certainly inside the "
          "window (by time, or by a whole UTC day inside it) whose lowest p_natural among "
          "those detections (the incident's p_min when they have none) is < 0.01, and "
          "so many of them that peacetime false alarms cannot explain them: P(Poisson("
          "false-incident rate x window days) >= their number) < 0.01; when the rate of the "
          "contact zone (scope within 5 km of the line) is measured too, either the whole "
          "scope's count or, within 5 km of the line, the days on which such an incident's "
          "fire reached new ground there (a detection with p_natural < 0.01, certainly "
          "inside the window, in a ~0.7 km² H3 cell the incident had not lit on an earlier "
          "day) against that zone's own false-alarm rate counted the same way in "
          "peacetime (negative binomial with the dispersion measured with that rate), at "
          "< 0.005 each (fire near the line prohibited)",
    "V2": "violated: an incident (or a single detection not in any incident) within a "
          "protected site's radius, certainly inside the window, with p_min (p_natural) < "
          "0.01, whatever its distance from the line (protected sites prohibited)",
    "H": "held: no incident and no war-flagged detection in scope possibly inside the "
         "window (or, when every window day counts as seen, incidents none of which has a "
         "detection within 5 km of the line, no more than false alarms explain: P(Poisson("
         "false-incident rate x window days) >= their number) >= 0.05), no fire at a "
         "protected site with p < 0.05, adequate coverage with the cloud known on every "
         "window day (clear-sky passes, not passes alone), and (fire near the line "
         "prohibited) the window's front rate compatible with the peacetime rate: the lower "
         "end of its exact 95% Poisson interval is at most the peacetime rate for the same "
         "ground and season (and, when that rate is given for it, the same within 5 km of "
         "the line), and the fire seen in scope not timed to the cloud: its days no more "
         "cloudy than the clear-sky passes explain (mean cloud share of the fire's days at "
         "least 0.10 above the clear-sky expectation with P < 0.01 blocks it), and no "
         "fire with p_natural < 0.05 in scope possibly inside the window on ground the "
         "control maps show changing hands within 14 days of it (the line did not hold "
         "still there), nor on days the maps do not yet reach 14 days either side of "
         "(whether the line held still there is not yet known)",
    "R": "reduced: fire near the line prohibited, adequate coverage, and the upper end of "
         "the 95% interval of the front/control ratio of rate ratios (the wider of exact "
         "and dispersion-scaled) below 1",
    "I": "inconclusive: none of the above; the reasons list what was missing",
}




def _rate_source(false_alarm: dict[str, Any]) -> str:
    """What the false-incident rate rests on, for the reasons."""
    why = (false_alarm.get("peacetime") or {}).get("why")
    return _rate_basis(false_alarm) + (f"; not measured in peacetime: {why}" if why else "")


def _rate_basis(false_alarm: dict[str, Any]) -> str:
    if not false_alarm.get("rate_given", True):
        return ", the default"
    if false_alarm.get("source") == "control band, same days":
        what = "new-ground day(s)" if false_alarm.get("unit") == "new-ground day" \
            else "incident(s)"
        return (f", measured: {false_alarm['control_incidents']} {what} on the control "
                f"band in the window's {false_alarm['control_days']} day(s), scaled by the "
                f"area judged, {false_alarm['area_ratio']:g} of the band's")
    if false_alarm.get("source") == "peacetime, same ground and season":
        by_sensor = (false_alarm.get("peacetime") or {}).get("by_sensor", {}).values()
        years = sorted({y for d in by_sensor for y in d.get("years", [])})
        return (", measured in peacetime on this ground and season, ± 30 days of "
                + (", ".join(map(str, years)) or "the peacetime years")
                + ", scored without those years" + _war_ground_text(by_sensor))
    if false_alarm.get("source") == "floor":
        measured = false_alarm.get("control_per_day")
        return (", the floor" if measured is None else
                f", the floor: the control band in the window's days gave {measured:.3g}/day")
    return ""


def _war_ground_text(by_sensor: Any) -> str:
    """What the peacetime yardstick left out as ground at war then (the climatology's
    exclusions, ``analysis.peacetime.WarGround``), for the reasons."""
    said = next((d["war_ground"] for d in by_sensor if d.get("war_ground")), None)
    if not said or said.get("share_off") is None:
        return ""
    if not said.get("left_out"):
        return (f", on all ground: only {said['share_off']:.0%} of it lies off ground at "
                "war then")
    return (f", leaving out {' and '.join(said['left_out'])} (at war from "
            f"{said['from']}) and scaling the rest, {said['share_off']:.0%} of the ground, "
            "to all of it")


def apply_rules(fire_near_line: bool, inc_rows: list[dict[str, Any]],
             site_rows: list[dict[str, Any]], coverage: Coverage, did: dict[str, Any],
             peace: dict[str, Any], war_counts: dict[str, int], false_alarm: dict[str, Any],
             reasons: list[str]) -> tuple[str, str]:
    """Apply :data:`RULES` in order; append the reasons to ``reasons``."""
    proof = [r for r in inc_rows
             if r["timing"] == "inside" and r["p_evidence"] < ALPHA_VIOLATION]
    near = false_alarm.get("near")
    alpha = ALPHA_FALSE_ALARM / 2 if near else ALPHA_FALSE_ALARM
    fa_text = (f"peacetime false alarms would give {false_alarm['expected']:.2f} such "
               f"incident(s) in {false_alarm['window_days']:g} days (rate "
               f"{false_alarm['rate_per_day']:.3g}/day" + _rate_source(false_alarm) + "); "
               f"P(at least {len(proof)}) = {false_alarm['p_value']:.2g}")
    if near:
        fa_text += (f"; within {near['km']:g} km of the line {near['n_incidents']} of them "
                    f"reached new ground there on {near['n_new_ground_days']} incident-day(s) "
                    f"in all, against {near['expected']:.2f} expected (rate "
                    f"{near['rate_per_day']:.3g} a day" + _rate_basis(near)
                    + f"; dispersion {near.get('dispersion', 1.0):.2g}), P = "
                    f"{near['p_value']:.2g}; each test at < {alpha:g}")
    by_scope = false_alarm["p_value"] < alpha
    by_near = bool(near) and near["p_value"] < alpha
    if proof and (by_scope or by_near):
        ids = ", ".join(str(r["incident_id"]) for r in proof[:10])
        reasons.append(f"{len(proof)} incident(s) in scope with p_natural < "
                       f"{ALPHA_VIOLATION} certainly inside the window: {ids}"
                       + (" ..." if len(proof) > 10 else ""))
        if by_near and not by_scope:
            reasons.append(f"{near['n_incidents']} of them burned within {near['km']:g} km "
                           f"of the line, reaching new ground on {near['n_new_ground_days']} "
                           "incident-day(s) in all, more than false alarms there explain")
        reasons.append(fa_text)
        where = sorted({f"{r['side']} ground" for r in proof if r.get("side")})
        if where:
            reasons.append("they lie on " + " and ".join(where) + " (where the fire was, "
                           "not who fired)")
        return "violated", "V1"
    site_proof = [r for r in site_rows if r["timing"] == "inside" and r["p"] < ALPHA_VIOLATION]
    if site_proof:
        names = sorted({r["site"] for r in site_proof})
        reasons.append(f"fire with p < {ALPHA_VIOLATION} at protected site(s) inside the "
                       f"window: {', '.join(names)}")
        return "violated", "V2"

    blockers: list[str] = []
    # incidents away from the line, no more than peacetime false alarms give, do not
    # block `held` when every window day was seen: farm fires are spread by area,
    # fighting meets at the line (and may hide under the cloud of an unseen day)
    every_day_seen = coverage.days_counting >= len(coverage.days) > 0
    tolerated = bool(inc_rows) and every_day_seen \
        and false_alarm.get("incidents_at_line") == 0 \
        and false_alarm.get("p_all_incidents", 0.0) >= ALPHA_HELD_FALSE_ALARMS
    if tolerated:
        pass
    elif proof:
        blockers.append(f"{len(proof)} incident(s) in scope with p_natural < "
                        f"{ALPHA_VIOLATION} certainly inside the window, too few to rule out "
                        f"false alarms: {fa_text}")
    elif inc_rows:
        weak = [r for r in inc_rows if r["p_evidence"] >= ALPHA_VIOLATION]
        unsure = [r for r in inc_rows if r["timing"] != "inside"]
        blockers.append(
            f"{len(inc_rows)} incident(s) in scope possibly inside the window but none proves "
            f"a violation ({len(weak)} with p_min >= {ALPHA_VIOLATION}, {len(unsure)} known "
            "only by date on a day partly outside the window)")
    elif fire_near_line and war_counts["window_possible"]:
        blockers.append(f"{war_counts['window_possible']} war-flagged detection(s) in scope "
                        "possibly inside the window (not in any incident)")
    site_block = [r for r in site_rows if r["p"] < ALPHA_SITE_BLOCK]
    if site_block:
        blockers.append(f"{len(site_block)} fire(s) at protected sites possibly inside the "
                        "window that are not clearly natural but prove no violation")
    if not coverage.adequate:
        blockers.append("coverage is poor, so a quiet window proves nothing")
    elif not coverage.held_allowed:
        blockers.append("cloud cover is unknown on some window days: coverage was judged "
                        "on satellite passes alone, which never supports 'held'")
    if fire_near_line and war_counts.get("moved_fire_possible"):
        blockers.append(
            f"{war_counts['moved_fire_possible']} detection(s) of fire with p_natural < "
            f"{ALPHA_SITE_BLOCK} in scope possibly inside the window lie on ground the "
            "control maps show changing hands within 14 days of them: the line moved there, "
            "so a quiet front cannot be shown")
    if fire_near_line and war_counts.get("moved_unknown_possible"):
        blockers.append(
            f"{war_counts['moved_unknown_possible']} detection(s) of fire with p_natural < "
            f"{ALPHA_SITE_BLOCK} in scope possibly inside the window lie on days the control "
            "maps do not reach 14 days either side of: whether the line moved under them is "
            "unknown until later maps are ingested")
    if fire_near_line:
        if peace["rate_per_day"] is None:
            blockers.append("no peacetime rate given for this ground and season, so the "
                            "front rate cannot be shown to be at peacetime level")
        elif not peace["compatible"]:
            blockers.append(
                f"front rate {peace['front_rate_window']:.2f}/day (95% CI "
                f"{peace['front_rate_lo']:.2f}-{peace['front_rate_hi']:.2f}) is above the "
                f"peacetime rate {peace['rate_per_day']:.2f}/day")
        zone = peace.get("zone")
        if zone and not zone["compatible"]:
            blockers.append(
                f"fire within {zone['km']:g} km of the line {zone['rate_window']:.2f}/day "
                f"(95% CI {zone['rate_lo']:.2f}-{zone['rate_hi']:.2f}) is above the peacetime "
                f"rate there, {zone['rate_per_day']:.2f}/day: fire concentrates at the line")
        hidden = peace.get("under_cloud")
        if hidden and hidden["flagged"]:
            blockers.append(
                f"the {hidden['n']} detection(s) in scope fell on days {hidden['shift']:.0%} "
                f"cloudier than the clear-sky passes place them (mean cloud "
                f"{hidden['mean_cloud_fire']:.0%} against {hidden['mean_cloud_expected']:.0%}"
                f", P = {hidden['p_value']:.2g}): fire seen under cloud, where fighting "
                "timed to the weather would leak through")
    if not blockers:
        reasons.append(
            (f"{len(inc_rows)} incident(s) in scope, none within {NEAR_LINE_KM:g} km of the "
             f"line, no more than peacetime false alarms explain ({false_alarm['expected']:.2f}"
             f" expected, P(at least {len(inc_rows)}) = {false_alarm['p_all_incidents']:.2g})"
             if tolerated else "no incident in scope") + ", adequate coverage"
            + (", front rate compatible with peacetime" if fire_near_line else ""))
        return "held", "H"

    if fire_near_line and coverage.adequate and did["hi"] < 1.0:
        reasons.append(
            f"front/control ratio of rate ratios {did['estimate']:.2f} (95% CI "
            f"{did['lo']:.2f}-{did['hi']:.2f}) is below 1: fire near the line fell more "
            "than in the control band")
        reasons.extend("not held: " + b for b in blockers)
        return "reduced", "R"
    reasons.extend(blockers)
    if fire_near_line and not coverage.adequate and did["hi"] < 1.0:
        reasons.append("the contrast suggests a drop, but not on adequate coverage")
    elif fire_near_line:
        hi = did["hi"]
        est = did["estimate"]
        if not math.isfinite(est):
            reasons.append("front/control ratio of rate ratios not estimable (no fire in a "
                           "band or window): it cannot show a drop")
        else:
            reasons.append(f"front/control ratio of rate ratios {est:.2f} (95% CI "
                           f"{did['lo']:.2f}-{'inf' if not math.isfinite(hi) else f'{hi:.2f}'})"
                           " does not show a drop")
    return "inconclusive", "I"


