"""The Google Sheets (and CSV) export of tracked videos: tables, cell encoding, writers."""
