"""Personal-data inventory (個人情報ファイル簿): the organisation's personal-data files, where they
live, how many persons they concern, and their overlaps; the source of a case's data sets."""
