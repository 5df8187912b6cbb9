version=2
# C4CC Connector, JSON lines (docs/log-formats.md section 3): the json
# parser decodes the whole object, nested "http" included, into the
# result's root.
rule=c4cc:%.:json%
