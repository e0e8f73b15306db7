"""Task definitions shared by both simulation backends (MuJoCo CPU and Isaac Lab)."""
