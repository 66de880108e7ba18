# Built-in callbacks
callbacks = [
    ace3.callbacks.EarlyStopping(patience=5),
    ace3.callbacks.ModelCheckpoint(save_best_only=True),
    ace3.callbacks.ReduceLROnPlateau(factor=0.5),
    ace3.callbacks.TensorBoard(log_dir="./logs")
]

trainer.train(model, dataset, callbacks=callbacks)
