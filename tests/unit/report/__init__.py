"""The Bitrix24 report: which batch commands each outcome needs, and resuming after failures."""
