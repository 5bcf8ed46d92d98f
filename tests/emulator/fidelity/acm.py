"""ACM: how long a requested certificate stays PENDING_VALIDATION.

What moto 5.2.5 does differently (moto/acm/models.py, CertBundle.check): a requested
certificate turns ISSUED once `settings.ACM_VALIDATION_WAIT` seconds (60 by default, from the
environment) have passed, whatever the emulator's time scale. AWS keeps it PENDING_VALIDATION
until it finds the DNS validation record, then ISSUED (CertificateDetail.Status: "A certificate
enters status PENDING_VALIDATION upon being requested ... If validation succeeds, the certificate
enters status ISSUED"); with the record in place that takes minutes. Here the wait is the
`acm_dns_validation` duration, scaled like every other lifecycle, so a test that needs an issued
certificate waits for it, and one that needs a pending one holds `acm_dns_validation`.
"""

from moto import settings
from moto.acm.models import CertBundle

import state

from .util import wrap


def install() -> None:
    def make(original):
        def check(self):
            # Held (the `hold` setting), validation never completes: a test keeps a
            # certificate pending for as long as it needs one.
            held = "acm_dns_validation" in state.SETTINGS.hold
            settings.ACM_VALIDATION_WAIT = float("inf") if held else state.scaled("acm_dns_validation")
            return original(self)

        return check

    wrap(CertBundle, "check", make)
