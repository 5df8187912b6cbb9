version=2
# Sync engine, logfmt (docs/log-formats.md section 2). The producer writes
# its keys in a fixed order per event, which the typed rules below parse
# fastest (lognormalizer at its best); any other order, and any key set,
# falls to the last rule: key=value pairs in any order, values bare or
# double-quoted with \" escapes (the string parser unescapes them).
prefix=ts=%ts:date-rfc5424% level=%level:word% component=%component:word% tenant=%tenant:word% mailbox=%mailbox:word% run=%run:word% event=
rule=engine,run_started:run_started direction=%direction:word%
rule=engine,record_synced:record_synced record=%record:word%
rule=engine,record_failed:record_failed record=%record:word% msg=%msg:string%
rule=engine,run_failed:run_failed msg=%msg:string%
rule=engine,run_finished:run_finished synced=%synced:number% failed=%failed:number% duration_ms=%duration_ms:number%
prefix=
rule=engine,anyorder:%{"name":"fields","type":"repeat",
    "parser":[{"type":"char-to","name":"key","extradata":"="},
              {"type":"literal","text":"="},
              {"type":"string","name":"value"}],
    "while":{"type":"literal","text":" "}}%
