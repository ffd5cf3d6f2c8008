"""What happens to a classified appeal: emergency transfer, human review or assignment (pure)."""
