// Package filesource reads log files for replay: files, directories,
// gzip-compressed files and stdin, entry by entry (parse.Scanner frames
// them), as pipeline.EntryReaders. A file that holds several streams laid
// end to end, each in its own time order (logs concatenated, a shipper's
// archive of several files read one after another), is read as one Source
// per stream, so that pipeline.Replay merges them by event time as it
// merges files.
package filesource
