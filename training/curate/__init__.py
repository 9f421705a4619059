"""Curation: cut Recordings into standard 2-s clips (``pipeline``), with resampling
(``resample``), pose conventions (``conventions``), sensor-depth cleaning (``depth``), a report
(``report``) and the command's source table (``registry``).
"""
