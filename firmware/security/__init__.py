"""Security (the 1.6 security whitepaper): security events and their log (events), the central
system's roots (trust), the certificate store (certstore), the renewal of the charge point
certificate (cpcert) and the switch of security profile (profile)."""
