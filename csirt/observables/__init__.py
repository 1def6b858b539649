"""Observables of a case (normalised indicators), their sightings across cases, ATT&CK
technique tags, and the STIX 2.1 / MISP exchange."""
