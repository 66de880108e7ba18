import { io } from '@meshserve/client';
const socket = io('http://localhost:5000', {
    auth: {
        token: 'your_api_key_here'
    }
});
