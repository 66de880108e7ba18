# Configure distributed training
config = ace3.DistributedConfig(
    num_gpus=4,
    num_nodes=2,
    backend="nccl",  # or "gloo", "mpi"
    master_addr="localhost",
    master_port=29500
)

# Initialize trainer
trainer = ace3.DistributedTrainer(config)
