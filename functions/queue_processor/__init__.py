"""SQS-triggered queue processor: RapidAPI fetches to video_statistics snapshots."""
