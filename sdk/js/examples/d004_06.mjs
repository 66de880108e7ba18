socket.emit('subscribe', {
    channels: ['plugin_events']
});

socket.on('plugin_loaded', (data) => {
    console.log('Plugin loaded:', data.plugin_id);
});

socket.on('plugin_error', (data) => {
    console.log('Plugin error:', data.plugin_id, data.error);
});
