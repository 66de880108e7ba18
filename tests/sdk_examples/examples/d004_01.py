import requests

response = requests.post('http://localhost:5000/api/v1/infer',
    json={'text': 'x' * 10000},  # Too long
    headers={'Authorization': 'Bearer your_api_key'}
)

if not response.ok:
    error_data = response.json()
    if error_data['error']['code'] == 'INVALID_INPUT':
        print(f"Input too long: {error_data['error']['details']['provided_length']}")
