version=2
# ExchangeConnector, log4net-style text (docs/log-formats.md section 1):
#   yyyy-MM-dd HH:mm:ss,fff [thread] LEVEL logger - [tenant/mailbox/run:ID] message
# The level is padded ("INFO  x"), hence the whitespace parser. Every field
# is extracted, and the item id of per-record lines as replay reads it.
# Stack-trace continuation lines are lines of their own here (lognormalizer
# is line-based), so they get rules too: "   at frame" and
# "System.X.YException: message".
rule=exchange,item,synced:%date:date-iso% %time:time-24hr%,%ms:number% [%thread:number%] %level:word%%-:whitespace%%logger:word% - [%tenant:char-to{"extradata":"/"}%/%mailbox:char-to{"extradata":"/"}%/run:%run:char-to{"extradata":"]"}%] item %item:word% synced
rule=exchange,item,failed:%date:date-iso% %time:time-24hr%,%ms:number% [%thread:number%] %level:word%%-:whitespace%%logger:word% - [%tenant:char-to{"extradata":"/"}%/%mailbox:char-to{"extradata":"/"}%/run:%run:char-to{"extradata":"]"}%] item %item:word% failed: %error:rest%
rule=exchange,message:%date:date-iso% %time:time-24hr%,%ms:number% [%thread:number%] %level:word%%-:whitespace%%logger:word% - [%tenant:char-to{"extradata":"/"}%/%mailbox:char-to{"extradata":"/"}%/run:%run:char-to{"extradata":"]"}%] %message:rest%
rule=exchange,stack,frame:%-:whitespace%at %frame:rest%
rule=exchange,stack,exception:%exception:string{"matching.permitted":[{"class":"alnum"},{"chars":"._"}],"matching.mode":"lazy"}%: %message:rest%
