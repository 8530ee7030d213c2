// Package compare compares two runs of kspbench (or two pools of runs), figure
// by figure, with benchstat's own statistics: the Mann-Whitney U test of
// x/perf's benchmath under AssumeNothing. Figures are grouped by engine,
// engine configuration and plugin, read from the result files' configuration
// and never from their names; identity keys such as kspbench-version never
// separate them. The Verdict says which figures got significantly worse or
// better beyond a threshold, and whether the regression gate fails.
package compare
