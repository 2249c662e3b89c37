"""Prometheus rules with their promtool unit tests, scrape config and Alertmanager config."""

from __future__ import annotations

from ..monitoring import rules_and_tests, scraped_jobs
from ..profile.loader import LoadedProfile
from .base import Job, Target


def _jobs(loaded: LoadedProfile, out: str) -> list[Job]:
    groups, tests = rules_and_tests(loaded.profile)
    context = {"rule_groups": groups, "rule_tests": tests, "scraped_jobs": scraped_jobs(loaded.profile)}
    return [
        Job("prometheus/rules.yml.j2", "prometheus/rules.yml", "yaml", "yaml", context),
        Job("prometheus/rules.test.yml.j2", "prometheus/rules.test.yml", "yaml", "yaml", context),
        Job("prometheus/prometheus.yml.j2", "prometheus/prometheus.yml", "yaml", "yaml", context),
        Job("prometheus/alertmanager.yml.j2", "prometheus/alertmanager.yml", "yaml", "yaml", context),
    ]


TARGET = Target("prometheus", "alert rules, rule unit tests, scrape and Alertmanager config", _jobs)
